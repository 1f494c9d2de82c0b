import type { OutputInfo, Sharp } from 'sharp';
import { CODEC_IDS, type CodecId } from '../protocol/codecs.js';
import { errorMessage, firstLine, UserError } from '../errors.js';
import type { Frame, FrameSize } from './frame.js';
import { loadSharp } from './sharp.js';

/**
 * What crosses the wire at the input point (--input-codec): the preprocessed float32 tensor ('f32',
 * today's behaviour), or the camera frame itself, as raw RGB bytes ('u8') or a JPEG, PNG or WebP
 * file (sharp/libvips, native), which the cloud decodes and preprocesses.
 */
export type InputCodecName = 'f32' | 'u8' | 'jpeg' | 'png' | 'webp';

export interface InputCodec {
  name: InputCodecName;
  /** jpeg and webp: 1-100 */
  quality?: number;
  /** as results files and reports write it: 'f32', 'u8', 'jpeg:90', 'png', 'webp:80' */
  label: string;
  /** the protocol's codec id: raw 0 for f32, u8 9, jpeg 10, png 11, webp 12 */
  id: CodecId;
}

/** Quality when `jpeg` or `webp` is given without one (libjpeg's and cwebp's customary settings). */
export const DEFAULT_QUALITY = { jpeg: 90, webp: 80 } as const;

const IDS: Record<InputCodecName, CodecId> = { f32: CODEC_IDS.raw, u8: CODEC_IDS.u8, jpeg: CODEC_IDS.jpeg, png: CODEC_IDS.png, webp: CODEC_IDS.webp };
const USE = 'use raw-f32 (or f32), u8, jpeg[:Q], png or webp[:Q] with Q 1-100';

function parseInputCodec(item: string): InputCodec {
  const [rawName = '', q, extra] = item.split(':');
  const name = rawName === 'raw-f32' ? 'f32' : rawName;
  if (!(name in IDS) || extra !== undefined) throw new UserError(`--input-codec: unknown input codec '${item}'; ${USE}`);
  const codec = name as InputCodecName;
  if (codec !== 'jpeg' && codec !== 'webp') {
    if (q !== undefined) throw new UserError(`--input-codec: ${codec} takes no quality (got '${item}'); only jpeg:Q and webp:Q do`);
    return { name: codec, label: codec, id: IDS[codec] };
  }
  const quality = q === undefined ? DEFAULT_QUALITY[codec] : /^\d+$/.test(q) ? Number(q) : NaN;
  if (!(quality >= 1 && quality <= 100)) throw new UserError(`--input-codec: quality of '${item}' must be an integer from 1 to 100`);
  return { name: codec, quality, label: `${codec}:${quality}`, id: IDS[codec] };
}

/** `raw-f32,jpeg:90,webp`: comma-separated input codecs; `raw-f32` and `f32` are the same; no repeats. */
export function parseInputCodecList(spec: string): InputCodec[] {
  const items = spec.split(',').map((s) => s.trim().toLowerCase());
  if (items.some((s) => s === '')) throw new UserError(`--input-codec: empty item in '${spec}'; ${USE}`);
  const codecs = items.map(parseInputCodec);
  const seen = new Set<string>();
  for (const c of codecs) {
    if (seen.has(c.label)) throw new UserError(`--input-codec lists ${c.label} twice in '${spec}'`);
    seen.add(c.label);
  }
  return codecs;
}

async function rawInput(frame: Frame): Promise<Sharp> {
  const sharp = await loadSharp();
  return sharp(frame.rgb, { raw: { width: frame.width, height: frame.height, channels: 3 } });
}

/**
 * The bytes the edge sends for a frame: u8 the frame's RGB bytes themselves (no copy); jpeg (4:2:0,
 * Huffman tables optimised, baseline), png (zlib level 6) and webp (lossy, effort 4) encoded by
 * sharp from the raw RGB. f32 is the preprocessed tensor (toTensor), not an encoding of the frame.
 */
export async function encodeFrame(frame: Frame, codec: InputCodec): Promise<Uint8Array> {
  switch (codec.name) {
    case 'u8':
      return frame.rgb;
    case 'jpeg':
      return (await rawInput(frame)).jpeg({ quality: codec.quality ?? DEFAULT_QUALITY.jpeg, chromaSubsampling: '4:2:0' }).toBuffer();
    case 'png':
      return (await rawInput(frame)).png({ compressionLevel: 6 }).toBuffer();
    case 'webp':
      return (await rawInput(frame)).webp({ quality: codec.quality ?? DEFAULT_QUALITY.webp }).toBuffer();
    case 'f32':
      throw new RangeError('f32 sends the preprocessed tensor (toTensor), not an encoded frame');
  }
}

const NAMES_BY_ID = new Map<number, InputCodecName>(Object.entries(IDS).map(([n, id]) => [id, n as InputCodecName]));

/**
 * The camera frame the cloud gets back from what the edge sent: u8 bytes as they are (no copy),
 * jpeg/png/webp decoded by sharp. Bytes that do not decode, or do not make a frame of `size` (the
 * sender and the receiver disagree on the model input), are a RangeError.
 */
export async function decodeFrame(bytes: Uint8Array, codec: InputCodec | CodecId, size: FrameSize): Promise<Frame> {
  const id = typeof codec === 'number' ? codec : codec.id;
  const name = NAMES_BY_ID.get(id);
  if (name === 'u8') {
    if (bytes.length !== size.width * size.height * 3) throw new RangeError(`u8 frame of ${bytes.length} bytes is not ${size.width}x${size.height}x3`);
    return { width: size.width, height: size.height, rgb: bytes, source: 'u8' };
  }
  if (name !== 'jpeg' && name !== 'png' && name !== 'webp') throw new RangeError(`codec ${id} is not an image codec (u8 9, jpeg 10, png 11, webp 12)`);
  const sharp = await loadSharp();
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(bytes).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new RangeError(`${name} frame of ${bytes.length} bytes cannot be decoded: ${firstLine(errorMessage(e))}`);
  }
  const { data, info } = decoded;
  if (info.width !== size.width || info.height !== size.height || info.channels !== 3) {
    throw new RangeError(`${name} frame is ${info.width}x${info.height}x${info.channels}, not ${size.width}x${size.height}x3`);
  }
  return { width: size.width, height: size.height, rgb: data, source: name };
}

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { OutputInfo } from 'sharp';
import { firstLine, UserError } from '../errors.js';
import { rng } from '../random.js';
import { cropRegion, variants, type Variant } from './augment.js';
import type { Frame, FrameSize } from './frame.js';
import { inputFileLabel, type InputsSpec } from './image-files.js';
import { loadSharp } from './sharp.js';
import type { Convention, Layout, PreprocessMode } from './preprocess.js';

/** A decoded photo: all its pixels, RGB. */
interface Photo {
  name: string;
  width: number;
  height: number;
  rgb: Buffer;
}

const FORMATS = new Set(['jpeg', 'png', 'webp']);

/** Reads and decodes one photo (EXIF orientation applied, alpha dropped, grey expanded to RGB); every failure names the file. */
async function decodePhoto(file: string, size: FrameSize): Promise<Photo> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new UserError(`--inputs: cannot read '${file}' (${(e as NodeJS.ErrnoException).code ?? firstLine(String(e))})`);
  }
  const sharp = await loadSharp();
  let format: string | undefined;
  try {
    format = (await sharp(bytes).metadata()).format;
  } catch {
    throw new UserError(`--inputs: '${file}' is not an image (not JPEG, PNG or WebP)`);
  }
  if (!format || !FORMATS.has(format)) throw new UserError(`--inputs: '${file}' is ${format ?? 'an unknown format'}, not JPEG, PNG or WebP; convert it first`);
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await sharp(bytes).autoOrient().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new UserError(`--inputs: '${file}' cannot be decoded (${firstLine(e instanceof Error ? e.message : String(e))})`);
  }
  const { width, height, channels } = out.info;
  if (channels !== 3) throw new UserError(`--inputs: '${file}' decodes to ${channels} channels, not RGB`);
  if (width < size.width || height < size.height) {
    throw new UserError(`--inputs: '${file}' is ${width}x${height}, smaller than the model input ${size.width}x${size.height}; use a photo of at least ${size.width}x${size.height}`);
  }
  return { name: path.basename(file), width, height, rgb: out.data };
}

/** One frame of a photo: the camera's view (centre crop of the model's aspect ratio, resized), or a variant of it. */
async function frameOf(photo: Photo, size: FrameSize, v: Variant): Promise<Frame> {
  const sharp = await loadSharp();
  let img = sharp(photo.rgb, { raw: { width: photo.width, height: photo.height, channels: 3 } });
  if (v.scale === 1 && v.position === 'c') {
    img = img.resize({ width: size.width, height: size.height, fit: 'cover', position: 'centre' });
  } else {
    img = img.extract(cropRegion(photo.width, photo.height, size, v)).resize({ width: size.width, height: size.height, fit: 'fill' });
  }
  const rgb = await img.raw().toBuffer();
  // mirrored here, not by sharp's flop(): sharp flops before it resizes and crops, which shifts an odd crop by a pixel
  if (v.flip) mirror(rgb, size.width, size.height);
  return { width: size.width, height: size.height, rgb, source: v.suffix ? `${photo.name}#${v.suffix}` : photo.name };
}

/** Mirrors an RGB image left to right, in place. */
function mirror(rgb: Uint8Array, width: number, height: number): void {
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let l = 0, r = width - 1; l < r; l++, r--) {
      for (let c = 0; c < 3; c++) {
        const a = row + l * 3 + c;
        const b = row + r * 3 + c;
        const tmp = rgb[a]!;
        rgb[a] = rgb[b]!;
        rgb[b] = tmp;
      }
    }
  }
}

/** `count` frames of seeded uniform random bytes (the same for the same seed). */
function randomFrames(size: FrameSize, count: number, seed: number): Frame[] {
  const next = rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const rgb = new Uint8Array(size.width * size.height * 3);
    for (let j = 0; j < rgb.length; j++) rgb[j] = Math.floor(next() * 256);
    return { width: size.width, height: size.height, rgb, source: `random#${i}` };
  });
}

/**
 * The frames of a run, at the model's input size: the photos (decoded and resized once, with sharp)
 * or seeded random frames. `atLeast` N adds variants of the photos (crops, flips, smaller crops:
 * augment.ts) round by round until there are N frames (random: N frames). Bad files are UserErrors
 * naming the file: unreadable, not an image, smaller than the model input.
 */
export async function loadFrames(spec: InputsSpec, size: FrameSize, o: { atLeast?: number; seed?: number } = {}): Promise<Frame[]> {
  if (!(Number.isInteger(size.width) && Number.isInteger(size.height) && size.width > 0 && size.height > 0)) {
    throw new RangeError(`frame size must be positive integers, got ${size.width}x${size.height}`);
  }
  const want = Math.max(1, o.atLeast ?? 0);
  if (spec.kind === 'random') return randomFrames(size, want, o.seed ?? 1);
  if (spec.paths.length === 0) throw new UserError('--inputs names no image file');
  const photos: Photo[] = [];
  for (const file of spec.paths) photos.push(await decodePhoto(file, size));
  const frames: Frame[] = [];
  // variant-major: every photo's n-th variant before any photo's (n+1)-th, so a prefix is balanced
  const sequences = photos.map((p) => {
    const whole = cropRegion(p.width, p.height, size, { scale: 1, position: 'c' });
    return variants(Math.min(whole.width, whole.height));
  });
  let round = 0;
  while (round === 0 || frames.length < want) {
    let added = 0;
    for (let i = 0; i < photos.length && (round === 0 || frames.length < want); i++) {
      const v = sequences[i]!.next();
      if (v.done) continue;
      frames.push(await frameOf(photos[i]!, size, v.value));
      added++;
    }
    if (added === 0) throw new UserError(`--inputs: ${photos.length} photo(s) give only ${frames.length} distinct frames, fewer than the ${want} needed; add photos`);
    round++;
  }
  return frames;
}

/** What a run's `#dnn-meta` says about its inputs (common design: meta `inputs`). */
export interface InputsMeta {
  kind: 'random' | 'images';
  /** input files (the shipped photos as models/images/NAME); empty for random */
  files: string[];
  /** frames the run cycles through (photos and their variants) */
  frames: number;
  preprocess: PreprocessMode;
  layout: Layout;
}

export function inputsMeta(spec: InputsSpec, frames: readonly Frame[], c: Pick<Convention, 'mode' | 'layout'>): InputsMeta {
  return { kind: spec.kind, files: spec.kind === 'images' ? spec.paths.map(inputFileLabel) : [], frames: frames.length, preprocess: c.mode, layout: c.layout };
}

import { zooEntry } from '../../models/index.js';
import type { PreprocessMode } from '../../models/zoo-entry.js';
import { UserError } from '../errors.js';
import type { Network } from '../model/network.js';
import type { Frame } from './frame.js';

export type { PreprocessMode };
export type Layout = 'nhwc' | 'nchw';

/** How a network's input tensor is made from a camera frame, and why that way. */
export interface Convention {
  mode: PreprocessMode;
  layout: Layout;
  /** 3 (RGB / BGR) or 1 (luminance) */
  channels: number;
  /** where the convention comes from, e.g. 'Keras mobilenet preprocess_input (tf)' */
  why: string;
}

export const PREPROCESS_MODES: readonly PreprocessMode[] = ['tf', 'caffe', 'torch', 'unit', 'raw'];

const MODE_HELP: Record<PreprocessMode, string> = {
  tf: 'x/127.5-1',
  caffe: 'BGR minus ImageNet means',
  torch: 'x/255, ImageNet mean/std',
  unit: 'x/255',
  raw: '0..255',
};

/** `tf (x/127.5-1), caffe (...), ...`: the modes with what they do, for help texts and errors. */
export function describeModes(): string {
  return PREPROCESS_MODES.map((m) => `${m} (${MODE_HELP[m]})`).join(', ');
}

export function parsePreprocess(v: string): PreprocessMode {
  const mode = v.trim().toLowerCase();
  if ((PREPROCESS_MODES as readonly string[]).includes(mode)) return mode as PreprocessMode;
  throw new UserError(`--preprocess: unknown mode '${v}'; use one of ${describeModes()}`);
}

/** The frame size a network takes: height and width of its input (NHWC for TF.js, NCHW for ONNX). */
export function frameSize(network: Network): { height: number; width: number } {
  const { layout } = imageLayout(network);
  const [a, b, c] = network.inputShape as [number, number, number];
  return layout === 'nhwc' ? { height: a, width: b } : { height: b, width: c };
}

function imageLayout(network: Network): { layout: Layout; channels: number } {
  const layout: Layout = network.source === 'onnx' ? 'nchw' : 'nhwc';
  const shape = network.inputShape;
  const channels = layout === 'nhwc' ? shape[2] : shape[0];
  if (shape.length !== 3 || (channels !== 1 && channels !== 3) || shape.some((d) => !(d > 0))) {
    const want = layout === 'nhwc' ? 'H x W x 1 or 3' : '1 or 3 x H x W';
    throw new UserError(`${network.id}'s input [${shape.join(', ')}] is not an image (${want}, batch excluded); use --inputs random`);
  }
  return { layout, channels: channels! };
}

/**
 * A network's input convention: zoo models use their Keras `preprocess_input` mode (the zoo entry's
 * `preprocess`), ONNX models the torchvision one (ImageNet mean/std, NCHW), bring-your-own TF.js
 * and Keras files x/255; `override` (--preprocess) replaces the mode, never the layout.
 */
export function conventionOf(network: Network, override?: PreprocessMode): Convention {
  const { layout, channels } = imageLayout(network);
  const [mode, why] = ((): [PreprocessMode, string] => {
    if (override) return [override, `--preprocess ${override}`];
    if (network.source === 'onnx') return ['torch', 'ONNX model: torchvision ImageNet mean/std in NCHW (torch)'];
    if (network.source === 'zoo') {
      const entry = zooEntry(network.id);
      if (entry) {
        return entry.keras.startsWith('keras.applications.')
          ? [entry.preprocess, `Keras ${entry.name} preprocess_input (${entry.preprocess})`]
          : [entry.preprocess, `the seed's ${entry.name}: pixels / 255 (${entry.preprocess})`];
      }
    }
    return ['unit', 'own TF.js/Keras model: pixels / 255 (unit) unless --preprocess says otherwise'];
  })();
  return { mode, layout, channels, why };
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];
/** Keras imagenet_utils 'caffe': the ImageNet means of B, G, R in 0..255 */
const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68];
const mean3 = (v: number[]): number => (v[0]! + v[1]! + v[2]!) / 3;

/**
 * Per output channel: which frame channel it reads (0..2 of RGB; -1: luminance) and a 256-entry
 * table of the value each byte becomes. One table lookup per value keeps preprocessing cheap.
 */
function channelTables(mode: PreprocessMode, channels: number): { source: number[]; tables: Float32Array[] } {
  // gray inputs read luminance and use the mean of the three channels' statistics
  const source = channels === 1 ? [-1] : mode === 'caffe' ? [2, 1, 0] : [0, 1, 2];
  const tables = source.map((src) => {
    const table = new Float32Array(256);
    const pick = (v: number[]): number => (src < 0 ? mean3(v) : v[src]!);
    for (let x = 0; x < 256; x++) {
      table[x] =
        mode === 'tf' ? x / 127.5 - 1
        : mode === 'caffe' ? x - (src < 0 ? mean3(CAFFE_MEAN_BGR) : CAFFE_MEAN_BGR[2 - src]!)
        : mode === 'torch' ? (x / 255 - pick(IMAGENET_MEAN)) / pick(IMAGENET_STD)
        : mode === 'unit' ? x / 255
        : x;
    }
    return table;
  });
  return { source, tables };
}

const TABLES = new Map<string, { source: number[]; tables: Float32Array[] }>();

function tablesFor(mode: PreprocessMode, channels: number): { source: number[]; tables: Float32Array[] } {
  const key = `${mode}/${channels}`;
  let t = TABLES.get(key);
  if (!t) TABLES.set(key, (t = channelTables(mode, channels)));
  return t;
}

/** ITU-R BT.601 luma, as Pillow's convert('L') weighs R, G, B (rounded to a byte like it). */
function luminance(r: number, g: number, b: number): number {
  return Math.round((r * 299 + g * 587 + b * 114) / 1000);
}

/**
 * The network's input values for one frame (batch 1): preprocessing per `c.mode`, in NHWC or NCHW
 * order, one luminance channel when the network takes one. Writes into `out` when given (it must
 * hold exactly H*W*C values), so the hot path allocates nothing.
 */
export function toTensor(frame: Frame, c: Convention, out?: Float32Array): Float32Array {
  const { width, height, rgb } = frame;
  const pixels = width * height;
  if (rgb.length !== pixels * 3) throw new RangeError(`frame ${frame.source} has ${rgb.length} bytes, not ${width}x${height}x3`);
  const n = pixels * c.channels;
  if (out && out.length !== n) throw new RangeError(`output holds ${out.length} values, the tensor has ${n}`);
  const dst = out ?? new Float32Array(n);
  const { source, tables } = tablesFor(c.mode, c.channels);
  const C = c.channels;
  for (let ch = 0; ch < C; ch++) {
    const table = tables[ch]!;
    const src = source[ch]!;
    // NHWC: value of pixel p, channel ch at p*C+ch; NCHW: at ch*pixels+p
    const base = c.layout === 'nhwc' ? ch : ch * pixels;
    const step = c.layout === 'nhwc' ? C : 1;
    for (let p = 0, o = base; p < pixels; p++, o += step) {
      const v = src < 0 ? luminance(rgb[3 * p]!, rgb[3 * p + 1]!, rgb[3 * p + 2]!) : rgb[3 * p + src]!;
      dst[o] = table[v]!;
    }
  }
  return dst;
}

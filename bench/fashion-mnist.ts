import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

/**
 * Fashion-MNIST as Debian's `dataset-fashion-mnist` package installs it (Zalando Research, MIT):
 * 28x28 grayscale photographs of clothing in 10 classes, 60,000 for training and 10,000 held out.
 */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

export interface Split {
  /** N*28*28 pixels, 0..255, row-major. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

/** Reads one IDX file (big-endian header: magic, dims, then unsigned bytes). */
function readIdx(file: string): { dims: number[]; data: Uint8Array } {
  let raw: Buffer;
  try {
    raw = gunzipSync(readFileSync(file));
  } catch (e) {
    throw new Error(`cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); install Debian's dataset-fashion-mnist package (apt-get install dataset-fashion-mnist)`);
  }
  const magic = raw.readUInt32BE(0);
  if (magic >>> 8 !== 0x08) throw new Error(`${file}: not an unsigned-byte IDX file (magic 0x${magic.toString(16)})`);
  const ndim = magic & 0xff;
  const dims = Array.from({ length: ndim }, (_, i) => raw.readUInt32BE(4 + 4 * i));
  const start = 4 + 4 * ndim;
  return { dims, data: new Uint8Array(raw.buffer, raw.byteOffset + start, raw.length - start) };
}

export function loadSplit(which: 'train' | 't10k', dir = FASHION_MNIST_DIR): Split {
  const img = readIdx(path.join(dir, `${which}-images-idx3-ubyte.gz`));
  const lab = readIdx(path.join(dir, `${which}-labels-idx1-ubyte.gz`));
  const [count, rows, cols] = img.dims as [number, number, number];
  if (lab.dims[0] !== count) throw new Error(`${which}: ${count} images but ${lab.dims[0]} labels`);
  return { images: img.data, labels: lab.data, count, rows, cols };
}

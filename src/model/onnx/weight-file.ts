import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { DataLocation, DataType, TensorProtoSchema, encodeModel, floatTensor, type ModelProto, type TensorProto } from './onnx-codec.js';
import type { WeightSink } from './onnx-builder.js';

const PREFIX = 'dnn-onnx-';
const FILE = 'weights.bin';
/** ONNX Runtime maps external data at page-aligned offsets instead of copying it through a read */
const ALIGN = 4096;
/** below this, a weight is written into the graph itself (biases, BN parameters, constants) */
const INLINE_BELOW = ALIGN;

/**
 * The weights of a converted model in one file on disk, which every half's graph refers to as
 * ONNX external data. Each weight is converted and written once, so the process holds no extra
 * copy of the weights: ONNX Runtime reads the ones a session needs when it creates it. The
 * folder (in the OS temp dir, named after the pid) is removed at exit; folders of processes that
 * no longer exist (kill -9) are removed when the next one starts.
 */
export class WeightFile implements WeightSink {
  readonly dir: string;
  private fd: number;
  private offset = 0;
  private readonly tensors = new Map<string, TensorProto>();
  private halves = 0;
  /** removes the file at exit if nobody did before; dropped by remove(), so runners made one after another do not pile up listeners */
  private readonly onExit = () => this.remove();

  constructor() {
    removeStale();
    this.dir = mkdtempSync(path.join(os.tmpdir(), `${PREFIX}${process.pid}-`));
    this.fd = openSync(path.join(this.dir, FILE), 'w');
    process.once('exit', this.onExit);
  }

  tensor(key: string, dims: number[], values: () => Float32Array): TensorProto {
    const known = this.tensors.get(key);
    if (known) return known;
    const v = values();
    let t: TensorProto;
    if (v.byteLength < INLINE_BELOW) {
      t = floatTensor(key, dims, new Uint8Array(v.slice().buffer));
    } else {
      this.offset = Math.ceil(this.offset / ALIGN) * ALIGN;
      writeSync(this.fd, new Uint8Array(v.buffer, v.byteOffset, v.byteLength), 0, v.byteLength, this.offset);
      t = create(TensorProtoSchema, {
        name: key,
        dims: dims.map(BigInt),
        dataType: DataType.FLOAT,
        dataLocation: DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: FILE },
          { key: 'offset', value: String(this.offset) },
          { key: 'length', value: String(v.byteLength) },
        ],
      });
      this.offset += v.byteLength;
    }
    this.tensors.set(key, t);
    return t;
  }

  /** Writes a model that refers to this file next to it (ONNX Runtime resolves external data from the model's folder). */
  writeModel(model: ModelProto): string {
    fsyncSync(this.fd);
    const file = path.join(this.dir, `half-${++this.halves}.onnx`);
    writeFileSync(file, encodeModel(model));
    return file;
  }

  remove(): void {
    process.off('exit', this.onExit);
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Bytes of weights a model holds (external data included): what a session built from it keeps resident. */
export function weightBytes(model: ModelProto): number {
  let n = 0;
  for (const t of model.graph?.initializer ?? []) {
    const len = t.externalData.find((e) => e.key === 'length')?.value;
    n += len !== undefined ? Number(len) : t.rawData.byteLength;
  }
  return n;
}

function removeStale(): void {
  let entries: string[];
  try {
    entries = readdirSync(os.tmpdir());
  } catch {
    return;
  }
  for (const e of entries) {
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(e);
    if (m && process.platform === 'linux' && !existsSync(`/proc/${m[1]}`)) rmSync(path.join(os.tmpdir(), e), { recursive: true, force: true });
  }
}

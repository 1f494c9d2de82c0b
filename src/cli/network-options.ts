import { Option } from 'commander';
import { UserError } from '../errors.js';
import type { BackendChoice } from '../engine/backend-choices.js';
import { backendOption, maxFrameOption, seedOption, threadsOption, tokenOption } from './common.js';

/** `--input-shape 64,64,3`: zoo models that allow it can be built smaller (quick looks, tests); ONNX models get their dynamic dimensions fixed. */
export function inputShapeOption(): Option {
  return new Option('--input-shape <HxWxC>', 'zoo models: build at another input size, e.g. 64x64x3 (ResNets, DenseNet, MobileNets...); ONNX models: fix dynamic input dimensions, batch excluded, e.g. 3x224x224').argParser(parseShape);
}

export function parseShape(value: string): number[] {
  const parts = value.split(/[x,]/).map((s) => s.trim());
  if (parts.length < 1 || parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1)) {
    throw new UserError(`--input-shape must be positive integers like 64x64x3, got '${value}'`);
  }
  return parts.map(Number);
}

/** The flags both ends of a run share (and partly must agree on): backend, threads, seed, frame limit, token, input shape. */
export function endOptions(): Option[] {
  return [backendOption(), threadsOption(), seedOption(), maxFrameOption(), tokenOption(), inputShapeOption()];
}

/** The values endOptions() parse to, as a command's options carry them. */
export interface EndValues {
  backend: BackendChoice;
  /** onnx: intra-op threads (default: the CPUs this process may use) */
  threads?: number;
  seed: number;
  maxFrame: number;
  token?: string;
  inputShape?: number[];
}

/** endOptions()'s values out of commander's: the optional ones only when given. */
export function endValues(f: EndValues): EndValues {
  return {
    backend: f.backend,
    ...(f.threads !== undefined ? { threads: f.threads } : {}),
    seed: f.seed,
    maxFrame: f.maxFrame,
    ...(f.token !== undefined ? { token: f.token } : {}),
    ...(f.inputShape !== undefined ? { inputShape: f.inputShape } : {}),
  };
}

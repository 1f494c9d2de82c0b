import tf from '../tfjs.cjs';
import { createRequire } from 'node:module';
import { UserError, errorMessage, firstLine } from '../errors.js';
import { defaultThreads, executionProviders, loadOnnxRuntime } from './onnx-runtime.js';
import { BACKEND_CHOICES, type BackendChoice } from './backend-choices.js';
export { BACKEND_CHOICES, parseThreads, type BackendChoice } from './backend-choices.js';
export type BackendName = Exclude<BackendChoice, 'auto'>;

/** What ran the inference: recorded in results so figures from different backends are never mixed up. */
export interface BackendInfo {
  name: BackendName;
  /** versions of the tfjs packages in use, e.g. {"tfjs-core": "4.22.0", "tfjs-backend-wasm": "4.22.0"} */
  versions: Record<string, string>;
  /** for `auto`: the backends tried before this one and why they failed */
  skipped: string[];
  /** onnx: intra-op threads of each session */
  threads?: number;
}

export interface BackendOptions {
  /** onnx: intra-op threads (default: the CPUs this process may use) */
  threads?: number;
}

let active: BackendInfo | undefined;

/** The backend the last selectBackend() loaded (runners pick their engine from it). */
export function activeBackend(): BackendInfo | undefined {
  return active;
}

const require = createRequire(import.meta.url);

function packageVersion(pkg: string): string | undefined {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/**
 * The wasm backend registers itself on load. Required, not imported: an ES import of this CommonJS
 * package makes Node scan its bundle for named exports (~0.2 s of CPU; see src/tfjs.cts).
 */
function wasmBackend(): typeof import('@tensorflow/tfjs-backend-wasm') {
  return require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
}

const FIX: Record<BackendName, string> = {
  onnx: 'reinstall dependencies with `npm ci` (onnxruntime-node ships its CPU library for Linux x64/arm64, macOS arm64 and Windows x64), or use --backend wasm',
  tensorflow:
    'install the native backend with `npm install @tensorflow/tfjs-node@4.22.0` (it downloads libtensorflow, so it needs internet access), or use --backend wasm',
  wasm: 'reinstall dependencies with `npm ci` (the .wasm files ship inside @tensorflow/tfjs-backend-wasm), or use --backend cpu',
  cpu: 'reinstall dependencies with `npm ci`',
};

/** Loads one backend into the shared tfjs-core instance; throws a plain Error with the reason when it cannot. */
async function load(name: BackendName): Promise<void> {
  if (name === 'onnx') {
    await loadOnnxRuntime();
    // TF.js still builds the layer graphs (and seeds weights) the ONNX graphs are made from
    name = 'cpu';
  } else if (name === 'tensorflow') {
    // tfjs-node registers the 'tensorflow' backend on import; it is an optional dependency.
    await import('@tensorflow/tfjs-node' as string);
  } else if (name === 'wasm') {
    wasmBackend();
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tf.setBackend('${name}') returned false`);
  await tf.ready();
}

/**
 * What `auto` tries, fastest first (bench:inference on a 2-core x86 machine, full predict, see
 * docs/backends.md): ONNX Runtime is 5-20x faster than wasm; tfjs-node (native TensorFlow) could not be
 * installed there, so its place after onnx rests on the published comparisons; wasm is in turn
 * 10-100x faster than the plain JS cpu backend.
 */
export const AUTO_ORDER: readonly BackendName[] = ['onnx', 'tensorflow', 'wasm', 'cpu'];

/**
 * Selects the inference backend: the first of AUTO_ORDER that loads for `auto`, else the one
 * asked for (a UserError when it cannot load).
 */
export async function selectBackend(choice: BackendChoice = 'auto', opts: BackendOptions = {}): Promise<BackendInfo> {
  // production mode: no debug checks, and no banner from the cpu backend (we print our own line)
  tf.env().set('PROD', true);
  const order: readonly BackendName[] = choice === 'auto' ? AUTO_ORDER : [choice];
  const skipped: string[] = [];
  for (const name of order) {
    try {
      await load(name);
      active = { name, versions: backendVersions(name), skipped };
      if (name === 'onnx') active.threads = opts.threads ?? defaultThreads();
      return active;
    } catch (e) {
      const reason = firstLine(errorMessage(e));
      if (choice !== 'auto') {
        throw new UserError(`backend '${name}' cannot be loaded (${reason}); ${FIX[name]}`);
      }
      skipped.push(`${name}: ${reason}`);
    }
  }
  throw new UserError(`no inference backend could be loaded (${skipped.join('; ')}); ${FIX.cpu}`);
}

const PACKAGE: Record<BackendName, string> = {
  onnx: 'onnxruntime-node',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

function backendVersions(name: BackendName): Record<string, string> {
  const versions: Record<string, string> = { 'tfjs-core': tf.version_core };
  const v = packageVersion(PACKAGE[name]);
  if (v) versions[PACKAGE[name].replace('@tensorflow/', '')] = v;
  if (name === 'onnx') versions['onnx-providers'] = executionProviders().join(',');
  return versions;
}


/** One line for the start of every command, e.g. "backend: wasm (tfjs-core 4.22.0, tfjs-backend-wasm 4.22.0)". */
export function describeBackend(info: BackendInfo): string {
  const v = Object.entries(info.versions)
    .map(([k, ver]) => `${k} ${ver}`)
    .join(', ');
  return `backend: ${info.name} (${v})${info.threads !== undefined ? `, ${info.threads} thread${info.threads === 1 ? '' : 's'}` : ''}`;
}

export function parseBackendChoice(value: string): BackendChoice {
  if ((BACKEND_CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new UserError(`unknown backend '${value}'; use one of ${BACKEND_CHOICES.join(', ')}`);
}

/**
 * How many threads the loaded backend infers with, when it can say: wasm reports its pool, the
 * plain JS cpu backend is single-threaded, native TensorFlow follows TF_NUM_INTRAOP_THREADS (else
 * its own choice: unknown). Part of the testbed: runs with different thread counts are not merged.
 */
export async function inferenceThreads(name: BackendName): Promise<number | null> {
  if (name === 'cpu') return 1;
  if (name === 'onnx') return null; // the loaded backend carries its own count (Backend.threads)
  if (name === 'wasm') return wasmBackend().getThreadsCount();
  const n = Number(process.env.TF_NUM_INTRAOP_THREADS);
  return Number.isInteger(n) && n > 0 ? n : null;
}

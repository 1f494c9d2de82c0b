import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { UserError, errorMessage } from '../errors.js';

export const BACKEND_CHOICES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
export type BackendName = Exclude<BackendChoice, 'auto'>;

/** What ran the inference: recorded in results so figures from different backends are never mixed up. */
export interface BackendInfo {
  name: BackendName;
  /** versions of the tfjs packages in use, e.g. {"tfjs-core": "4.22.0", "tfjs-backend-wasm": "4.22.0"} */
  versions: Record<string, string>;
  /** for `auto`: the backends tried before this one and why they failed */
  skipped: string[];
}

const require = createRequire(import.meta.url);

function packageVersion(pkg: string): string | undefined {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return undefined;
  }
}

const FIX: Record<BackendName, string> = {
  tensorflow:
    'install the native backend with `npm install @tensorflow/tfjs-node@4.22.0` (it downloads libtensorflow, so it needs internet access), or use --backend wasm',
  wasm: 'reinstall dependencies with `npm ci` (the .wasm files ship inside @tensorflow/tfjs-backend-wasm), or use --backend cpu',
  cpu: 'reinstall dependencies with `npm ci`',
};

/** Loads one backend into the shared tfjs-core instance; throws a plain Error with the reason when it cannot. */
async function load(name: BackendName): Promise<void> {
  if (name === 'tensorflow') {
    // tfjs-node registers the 'tensorflow' backend on import; it is an optional dependency.
    await import('@tensorflow/tfjs-node' as string);
  } else if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tf.setBackend('${name}') returned false`);
  await tf.ready();
}

/**
 * Selects the inference backend. `auto` = native TensorFlow when @tensorflow/tfjs-node is importable,
 * else wasm, else the plain JS cpu backend. An explicit choice that cannot load is a UserError.
 */
export async function selectBackend(choice: BackendChoice = 'auto'): Promise<BackendInfo> {
  // production mode: no debug checks, and no banner from the cpu backend (we print our own line)
  tf.env().set('PROD', true);
  const order: BackendName[] = choice === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [choice];
  const skipped: string[] = [];
  for (const name of order) {
    try {
      await load(name);
      return { name, versions: backendVersions(name), skipped };
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

function backendVersions(name: BackendName): Record<string, string> {
  const versions: Record<string, string> = { 'tfjs-core': tf.version_core };
  const pkg = name === 'tensorflow' ? '@tensorflow/tfjs-node' : name === 'wasm' ? '@tensorflow/tfjs-backend-wasm' : '@tensorflow/tfjs-backend-cpu';
  const v = packageVersion(pkg);
  if (v) versions[pkg.replace('@tensorflow/', '')] = v;
  return versions;
}

function firstLine(s: string): string {
  const line = s.split('\n')[0] ?? s;
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/** One line for the start of every command, e.g. "backend: wasm (tfjs-core 4.22.0, tfjs-backend-wasm 4.22.0)". */
export function describeBackend(info: BackendInfo): string {
  const v = Object.entries(info.versions)
    .map(([k, ver]) => `${k} ${ver}`)
    .join(', ');
  return `backend: ${info.name} (${v})`;
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
  if (name === 'wasm') return (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
  const n = Number(process.env.TF_NUM_INTRAOP_THREADS);
  return Number.isInteger(n) && n > 0 ? n : null;
}

import tf from '../tfjs.cjs';
import { readFile, access } from 'node:fs/promises';
import path from 'node:path';
import { UserError, errorMessage } from '../errors.js';

/**
 * Bring-your-own model files: (a) a TF.js Layers `model.json` as tensorflowjs_converter writes
 * it (weights loaded when its shard files are present), (b) a raw Keras `model.to_json()` file.
 */
export interface LoadedFile {
  model: tf.LayersModel;
  format: 'tfjs-layers' | 'keras-json';
  /** true when weight values came from the file's shards; false = to be seeded */
  weightsFromFile: boolean;
  note?: string;
}

type Json = Record<string, unknown>;

export async function loadModelFile(file: string): Promise<LoadedFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read model file '${file}': ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}; check the path`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`'${file}' is not valid JSON (${errorMessage(e)}); expected a TF.js model.json or a Keras model.to_json() file`);
  }
  if (!isObject(json)) throw new UserError(`'${file}' holds no JSON object; expected a TF.js model.json or a Keras model.to_json() file`);

  if (isObject(json.modelTopology)) {
    const topology = json.modelTopology;
    const manifest = json.weightsManifest;
    if (Array.isArray(manifest) && manifest.length > 0) {
      const dir = path.dirname(file);
      const shards = manifest.flatMap((g: Json) => (Array.isArray(g.paths) ? (g.paths as string[]) : []));
      const missing: string[] = [];
      for (const p of shards) if (!(await exists(path.join(dir, p)))) missing.push(p);
      if (missing.length === 0) {
        const model = await deserialize(file, () => tf.loadLayersModel(fileHandler(json as Json, dir)));
        return { model, format: 'tfjs-layers', weightsFromFile: true };
      }
      const model = await fromTopology(file, topology);
      return {
        model,
        format: 'tfjs-layers',
        weightsFromFile: false,
        note: `weight shards not found next to ${path.basename(file)} (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''}): using seeded weights`,
      };
    }
    return { model: await fromTopology(file, topology), format: 'tfjs-layers', weightsFromFile: false };
  }
  if (typeof json.class_name === 'string' && isObject(json.config)) {
    return { model: await fromTopology(file, json), format: 'keras-json', weightsFromFile: false };
  }
  throw new UserError(
    `'${file}' is neither a TF.js Layers model.json (no "modelTopology") nor a Keras model.to_json() file (no "class_name"/"config")`,
  );
}

/** Builds from a Keras-format topology with every initializer replaced by zeros (seeded weights follow). */
async function fromTopology(file: string, topology: Json): Promise<tf.LayersModel> {
  const zeroed = zeroInitializers(structuredClone(topology)) as Json;
  return deserialize(file, () => tf.models.modelFromJSON({ modelTopology: zeroed } as Parameters<typeof tf.models.modelFromJSON>[0]));
}

async function deserialize(file: string, build: () => Promise<tf.LayersModel>): Promise<tf.LayersModel> {
  try {
    return await build();
  } catch (e) {
    const msg = errorMessage(e).split('\n')[0]!;
    const unknown = /Unknown (?:layer|class|activation|initializer|regularizer|constraint): ?(\w+)/i.exec(msg);
    if (unknown) {
      throw new UserError(`'${file}' uses ${unknown[0].replace(/^Unknown /, 'unsupported ').replace(/:\s*/, ' ')}, which TF.js Layers does not implement; replace it or export the model without it`);
    }
    throw new UserError(`cannot build the model in '${file}': ${msg}`);
  }
}

/**
 * Building with zeros avoids running the file's initializers (glorot on VGG16's 138 M weights takes
 * seconds) only to overwrite them with seeded values.
 */
function zeroInitializers(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(zeroInitializers);
  if (!isObject(node)) return node;
  for (const [k, v] of Object.entries(node)) {
    node[k] = k.endsWith('_initializer') && isObject(v) ? { class_name: 'Zeros', config: {} } : zeroInitializers(v);
  }
  return node;
}

/** tfjs has no file:// loader without tfjs-node: read model.json and its shards ourselves. */
function fileHandler(json: Json, dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const manifest = json.weightsManifest as tf.io.WeightsManifestConfig;
      const specs = manifest.flatMap((g) => g.weights);
      const buffers: Buffer[] = [];
      for (const group of manifest) for (const p of group.paths) buffers.push(await readFile(path.join(dir, p)));
      const all = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology as Json,
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
        format: json.format as string | undefined,
      };
    },
  };
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

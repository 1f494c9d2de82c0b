// test-lane: full (spawns dnn-cut over many models: ~9 s)
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runBin, FIXTURES } from '../helpers/cli.js';
import { selectBackend } from '../../src/engine/backend.js';
import { loadLayersNetwork } from '../../src/model/network.js';
import { loadNetwork } from '../../src/engine/load-network.js';
import { parseCutOptions } from '../../src/cli/cut-options.js';
import { userErrorOf } from '../helpers/user-error.js';

const LENET_JSON = path.join(FIXTURES, 'keras-json/lenet_edge_upto_9.json');

t.test('dnn-cut --json on a Keras file: the documented fields', async (t) => {
  const r = await runBin('dnn-cut', [LENET_JSON, '--json']);
  t.equal(r.exitCode, 0, String(r.stderr));
  const j = JSON.parse(String(r.stdout));
  t.equal(j.network, 'lenet_edge_upto_9');
  t.equal(j.params, 1752070);
  t.equal(j.layers, 11);
  t.same(j.input_shape, [28, 28, 1]);
  t.type(j.backend, 'string');
  t.equal(j.cuts.length, 11);
  t.same(j.cuts[0], { ...j.cuts[0], index: 0, layer: 'conv2d_6_input', shape: [28, 28, 1], bytes: 3136 });
  t.match(String(r.stderr), /^backend: \w+ \(tfjs-core 4\.22\.0/m, 'backend and versions printed once at start');
});

t.test('two processes build bit-identical weights (same fingerprint as in-process)', async (t) => {
  await selectBackend('auto');
  const local = await loadLayersNetwork(LENET_JSON, { seed: 42 });
  const r = await runBin('dnn-cut', [LENET_JSON, '--json', '--seed', '42', '--backend', 'cpu']);
  t.equal(r.exitCode, 0, String(r.stderr));
  t.equal(JSON.parse(String(r.stdout)).fingerprint, local.fingerprint, 'fingerprint does not depend on process or backend');
});

t.test('a TF.js model.json loads its weight shards when present', async (t) => {
  await selectBackend('auto');
  const dir = await mkdtemp(path.join(tmpdir(), 'dnn-cut-'));
  const inp = tf.input({ shape: [8] });
  const h = tf.layers.dense({ units: 4, activation: 'relu', name: 'hidden' }).apply(inp) as tf.SymbolicTensor;
  const m = tf.model({ inputs: inp, outputs: tf.layers.dense({ units: 2, name: 'out' }).apply(h) as tf.SymbolicTensor });
  // save the way tensorflowjs_converter lays it out: model.json + one shard
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      await writeFile(path.join(dir, 'group1-shard1of1.bin'), Buffer.from(a.weightData as ArrayBuffer));
      const json = { format: 'layers-model', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: a.weightSpecs }] };
      await writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const loaded = await loadLayersNetwork(path.join(dir, 'model.json'), { seed: 1 });
  t.equal(loaded.weights, 'file');
  t.same(Array.from(loaded.model.getLayer('hidden').getWeights()[0]!.dataSync()), Array.from(m.getLayer('hidden').getWeights()[0]!.dataSync()));
  t.same(loaded.cuts.map((c) => c.layer), [loaded.model.layers[0]!.name, 'hidden', 'out']);

  // without its shard the same file still loads, with seeded weights and a note
  const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'));
  json.weightsManifest[0].paths = ['missing.bin'];
  await writeFile(path.join(dir, 'noshard.json'), JSON.stringify(json));
  const r = await runBin('dnn-cut', [path.join(dir, 'noshard.json')]);
  t.equal(r.exitCode, 0, String(r.stderr));
  t.match(String(r.stderr), /note: weight shards not found .*missing\.bin.*seeded weights/);
});

/** What dnn-cut does before it prints (src/cli/cut.ts), in process: parse, pick the backend, load the network. */
async function cutInProcess(args: string[]): Promise<void> {
  const o = parseCutOptions(args);
  await selectBackend(o.backend);
  await loadNetwork(o.network, { seed: o.seed, inputShape: o.inputShape });
}

t.test('bad input: one clear line, exit 2, no stack trace', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'dnn-cut-bad-'));
  const lenet = JSON.parse(await readFile(LENET_JSON, 'utf8'));
  lenet.config.layers[2].class_name = 'FancyActivation';
  await writeFile(path.join(dir, 'unsupported.json'), JSON.stringify(lenet));
  await writeFile(path.join(dir, 'broken.json'), '{"class_name": "Model", "config": ');
  await writeFile(path.join(dir, 'other.json'), '{"hello": "world"}');
  const cases: [string[], RegExp][] = [
    [['resnet51'], /unknown network 'resnet51'; use one of .*vgg16.* or a path/],
    [[path.join(dir, 'absent.json')], /cannot read model file .*absent\.json.*ENOENT/],
    [[path.join(dir, 'broken.json')], /is not valid JSON/],
    [[path.join(dir, 'other.json')], /neither a TF\.js Layers model\.json .* nor a Keras model\.to_json\(\) file/],
    [[path.join(dir, 'unsupported.json')], /unsupported layer.*FancyActivation/i],
    [['lenet', '--backend', 'tensorflow'], /backend 'tensorflow' cannot be loaded .*npm install @tensorflow\/tfjs-node/],
    [['lenet', '--backend', 'gpu'], /argument 'gpu' is invalid/],
    [['lenet', '--seed', 'abc'], /--seed must be an integer/],
    [[], /missing required argument 'network'/],
  ];
  // in process: each raises the UserError that runMain prints as one line with exit 2
  for (const [args, re] of cases) {
    const e = await userErrorOf(() => cutInProcess(args));
    t.equal(e?.exitCode, 2, `exit 2 for ${args.join(' ') || '(no args)'}`);
    t.match(e?.message, re, `message for ${args.join(' ') || '(no args)'}`);
    t.notMatch(e?.message, /\n/, 'one line');
  }
  // and once as a process: exit code, one line, no stack
  const r = await runBin('dnn-cut', [path.join(dir, 'unsupported.json')]);
  t.equal(r.exitCode, 2, 'exit 2 for a model with an unsupported layer');
  t.match(String(r.stderr), /^backend: [^\n]+\ndnn-cut: [^\n]*unsupported layer.*FancyActivation[^\n]*$/i, 'the backend line, then one error line');
  t.notMatch(String(r.stderr), /\n\s+at /, 'no stack trace');
});

// test-lane: full (spawns dnn-cut over many models: ~9 s)
import t from 'tap';
import tf from '../../src/tfjs.cjs';
import { mkdtemp, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runBin, FIXTURES } from '../helpers/cli.js';
import { selectBackend } from '../../src/engine/backend.js';
import { loadLayersNetwork } from '../../src/model/network.js';
import { loadNetwork } from '../../src/engine/load-network.js';
import { parseCutOptions } from '../../src/cli/cut-options.js';
import { userErrorOf } from '../helpers/user-error.js';
import { toyModel, writeModel } from '../helpers/onnx.js';

const LENET_JSON = path.join(FIXTURES, 'keras-json/lenet_edge_upto_9.json');

// one spawn for both claims (each dnn-cut spawn costs ~1.4 s of CPU)
t.test('dnn-cut --json on a Keras file: the documented fields; a second process builds bit-identical weights', async (t) => {
  await selectBackend('auto');
  const local = await loadLayersNetwork(LENET_JSON, { seed: 42 });
  const r = await runBin('dnn-cut', [LENET_JSON, '--json', '--seed', '42', '--backend', 'cpu']);
  t.equal(r.exitCode, 0, String(r.stderr));
  const j = JSON.parse(String(r.stdout));
  t.equal(j.network, 'lenet_edge_upto_9');
  t.equal(j.params, 1752070);
  t.equal(j.layers, 11);
  t.same(j.input_shape, [28, 28, 1]);
  t.equal(j.backend, 'cpu');
  t.equal(j.cuts.length, 11);
  t.same(j.cuts[0], { ...j.cuts[0], index: 0, layer: 'conv2d_6_input', shape: [28, 28, 1], bytes: 3136 });
  t.match(String(r.stderr), /^backend: \w+ \(tfjs-core 4\.22\.0/m, 'backend and versions printed once at start');
  t.equal(j.fingerprint, local.fingerprint, 'same fingerprint as in-process: it does not depend on process or backend');
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

t.test('dnn-cut --codecs --json: cuts[].codecs[] per measured point, and what the figures are over', async (t) => {
  const r = await runBin('dnn-cut', ['lenet', '--codecs', 'f16,int8,lz4', '--frames', '4', '--cuts', '0,conv2d_1,8,activation_4', '--json']);
  t.equal(r.exitCode, 0, String(r.stderr));
  const j = JSON.parse(String(r.stdout));
  t.equal(j.cuts.length, 12, 'every point is listed');
  const measured = j.cuts.filter((c: { codecs?: unknown }) => c.codecs);
  t.same(measured.map((c: { layer: string }) => c.layer), ['conv2d_1_input', 'conv2d_1', 'dense_1', 'activation_4'], '--cuts picks the measured ones');
  const keys = 'codec,bytes,ratio,encode_ms,decode_ms,max_abs_diff,rel_l2,top1_agreement,top5_agreement,inputs';
  for (const c of measured) for (const f of c.codecs) t.equal(Object.keys(f).join(','), keys, `${c.layer} ${f.codec}: the record's fields`);
  const [input, conv, dense, out] = measured;
  t.same(input.codecs.map((f: { codec: string }) => f.codec), ['jpeg:90'], 'the input point: jpeg:90 by default');
  t.ok(input.codecs[0].bytes < input.bytes && input.codecs[0].max_abs_diff > 0);
  t.same(conv.codecs.map((f: { codec: string }) => f.codec), ['f16', 'int8', 'lz4']);
  t.equal(conv.codecs[0].bytes, conv.bytes / 2);
  t.equal(conv.codecs[1].bytes, conv.bytes / 4);
  t.same([conv.codecs[2].max_abs_diff, conv.codecs[2].rel_l2, conv.codecs[2].top1_agreement], [0, 0, 1], 'lz4: exact');
  t.equal(dense.codecs[0].inputs, 4);
  t.same(out.codecs, [{ codec: 'f32', bytes: 0, ratio: 1, encode_ms: 0, decode_ms: 0, max_abs_diff: 0, rel_l2: 0, top1_agreement: 1, top5_agreement: 1, inputs: 4 }], 'edge-only: one f32 record');
  t.same(Object.keys(j.fidelity), ['frames', 'inputs', 'preprocess', 'layout', 'top5_definition']);
  t.same([j.fidelity.frames, j.fidelity.inputs.length, j.fidelity.preprocess, j.fidelity.layout], [4, 4, 'unit', 'nhwc']);
  t.match(j.fidelity.inputs[0], /\.(png|jpg)$/, 'frame sources name the photographs');
  t.match(j.fidelity.top5_definition, /reference's top-1 class is among the codec output's 5 highest/);
  t.match(String(r.stderr), /fidelity: \[4\/4\] activation_4/, 'progress on stderr');
});

t.test('dnn-cut --codecs: the table, a row per (point, codec)', async (t) => {
  const r = await runBin('dnn-cut', ['lenet', '--codecs', 'f16,int8', '--input-codec', 'png,jpeg:50', '--frames', '2', '--cuts', '0,1']);
  t.equal(r.exitCode, 0, String(r.stderr));
  const out = String(r.stdout);
  t.match(out, /^fidelity over 2 inputs \(\d files?: [^)]*; preprocess unit, NHWC\), against the float32 output of the same split/m);
  t.match(out, /index\s+layer\s+shape\s+codec\s+bytes\s+ratio\s+encode ms\s+decode ms\s+max abs diff\s+rel L2\s+top-1\s+top-5/);
  t.match(out, /^\s+0\s+conv2d_1_input\s+28x28x1\s+png\s+[\d,]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+0\s+0\s+100\.0 %\s+100\.0 %\s+cloud-only$/m);
  t.match(out, /^\s+jpeg:50\s/m);
  t.match(out, /^\s+1\s+conv2d_1\s+28x28x20\s+f16\s+31,360\s+0\.500\s/m);
  t.match(out, /^\s+int8\s+15,680\s+0\.250\s/m);
  t.match(out, /^top-1: the output's top-1 class is the reference's; top-5: the reference's top-1 class/m);
});

t.test('dnn-cut --codecs on a network whose input is not an image: seeded random tensors, f32 at the input', async (t) => {
  const file = writeModel(toyModel());
  const r = await runBin('dnn-cut', [file, '--codecs', 'f16,lz4', '--inputs', 'random', '--frames', '3', '--json']);
  t.equal(r.exitCode, 0, String(r.stderr));
  const j = JSON.parse(String(r.stdout));
  t.same(j.fidelity.inputs, ['random']);
  t.same(j.cuts[0].codecs.map((f: { codec: string; max_abs_diff: number }) => [f.codec, f.max_abs_diff]), [['f32', 0]]);
  for (const c of j.cuts.slice(1, -1)) t.equal(c.codecs[1].max_abs_diff, 0, `${c.layer}: lz4 exact`);
  const bad = await runBin('dnn-cut', [file, '--codecs', 'f16', '--input-codec', 'jpeg', '--inputs', 'random']);
  t.equal(bad.exitCode, 2);
  t.match(String(bad.stderr), /is not an image: at the input point only --input-codec raw-f32 can be measured/);
});

t.test('dnn-cut --codecs bad input: one line, exit 2, before any measuring', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'dnn-cut-fid-'));
  await writeFile(path.join(dir, 'notes.jpg'), 'not a picture');
  // what the arguments alone tell: refused while parsing, before the backend loads
  const parsing: [string[], RegExp][] = [
    [['--codecs', 'f16,snappy'], /^--codecs: unknown codec 'snappy'; known codecs: f32, f16, int8/],
    [['--codecs', 'f16', '--input-codec', 'jpeg:0'], /^--input-codec: quality of 'jpeg:0' must be an integer from 1 to 100/],
    [['--codecs', 'f16', '--input-codec', 'webp:101'], /^--input-codec: quality of 'webp:101' must be an integer from 1 to 100/],
    [['--codecs', 'f16', '--input-codec', 'gif'], /^--input-codec: unknown input codec 'gif'/],
    [['--codecs', 'f16', '--frames', '0'], /^--frames must be between 1 and 100000, got 0/],
    [['--codecs', 'f16', '--inputs', path.join(dir, 'absent.png')], /^--inputs: '.*absent\.png' does not exist/],
    [['--frames', '5'], /^--frames applies to fidelity measurement: add --codecs LIST/],
    [['--inputs', 'random'], /^--inputs applies to fidelity measurement/],
  ];
  for (const [args, re] of parsing) {
    const e = await userErrorOf(() => parseCutOptions(['lenet', ...args]));
    t.equal(e?.exitCode, 2, `exit 2 for ${args.join(' ')}`);
    t.match(e?.message, re);
    t.notMatch(e?.message, /\n/, 'one line');
  }
  // what needs the network: refused after loading it, before any inference
  const loading: [string[], RegExp][] = [
    [['--codecs', 'f16', '--inputs', path.join(dir, 'notes.jpg')], /^dnn-cut: --inputs: '.*notes\.jpg' is not an image/],
    [['--codecs', 'f16', '--cuts', 'nope'], /^dnn-cut: --cuts: nope is not a partition point of lenet; `dnn-cut lenet` lists them/],
  ];
  for (const [args, re] of loading) {
    const r = await runBin('dnn-cut', ['lenet', ...args, '--backend', 'cpu']);
    t.equal(r.exitCode, 2, `exit 2 for ${args.join(' ')}`);
    const lines = String(r.stderr).trim().split('\n').filter((l) => !/^(backend|note): /.test(l));
    t.equal(lines.length, 1, `one error line for ${args.join(' ')}`);
    t.match(lines[0], re);
    t.notMatch(String(r.stderr), /fidelity: /, 'nothing measured');
    t.equal(String(r.stdout), '');
  }
});

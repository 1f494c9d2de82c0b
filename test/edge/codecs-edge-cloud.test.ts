// test-lane: full (edge and cloud processes end to end: too slow for `npm run test:unit`)
// Codecs on the wire between a real dnn-edge and a real dnn-cloud over loopback (no root: no shaping,
// no stress): every arm (point, codec) is measured, its bytes are the frame its codec makes, encode and
// decode are recorded; and through the edge's own link to the same cloud, lossless arms give the f32
// output bit for bit and lossy ones come close.
import t from 'tap';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runBin } from '../helpers/cli.js';
import { startCloud, stopCloud } from '../helpers/cloud-process.js';
import { readResultsFile } from '../../src/results/log-reader.js';
import { CODEC_METRICS, METRICS } from '../../src/results/tags.js';
import { selectBackend } from '../../src/engine/backend.js';
import { loadNetwork } from '../../src/engine/load-network.js';
import { createSplitRunner } from '../../src/engine/split-runner.js';
import { ProtocolLink } from '../../src/edge/protocol-link.js';
import { PROTOCOL_VERSION } from '../../src/protocol/constants.js';
import { hostInfo } from '../../src/host-info.js';
import { parseCodecList } from '../../src/codecs/index.js';
import { conventionOf, encodeFrame, frameSize, loadFrames, parseInputCodecList, parseInputs, toTensor } from '../../src/inputs/index.js';
import { disposeNetwork } from '../../src/model/network.js';

const SHAPE = ['--input-shape', '32x32x3'];
const PLAIN = ['--no-shape', '--edge-cpu', '0', '--edge-mem', '0', '--cloud-cpu', '0', '--cloud-mem', '0', '--reference-every', '0'];
const CUTS = ['input_1', 'conv_pw_1_relu', 'conv_pw_5_relu', 'act_softmax'];
const REPS = 3;

// the cloud warms up only the halves this file asks for, as the lab's does (all 93: ~5-12 s)
const cloud = await startCloud('mobilenet', [...SHAPE, '--warm-up', CUTS.join(',')]);
t.teardown(() => stopCloud(cloud));

const near = (got: number, want: number) => Math.abs(got - want) <= want * 0.002; // HdrHistogram: 3 significant digits

t.test('a sweep with --codec and --input-codec: every arm measured, its bytes, encode and decode recorded', async (t) => {
  const out = await mkdtemp(path.join(tmpdir(), 'dnn-edge-codecs-'));
  const r = await runBin('dnn-edge', ['127.0.0.1', 'mobilenet', ...SHAPE, '--port', String(cloud.port), '--out', out, '--reps', String(REPS), '--cuts', CUTS.join(','), '--codec', 'f32,f16,int8,lz4', '--input-codec', 'raw-f32,jpeg:90,u8', ...PLAIN]);
  t.equal(r.exitCode, 0, String(r.stderr));
  t.match(String(r.stderr), /measuring 4 of 93 points as 12 arms/);
  const [name] = await readdir(out);
  const parsed = readResultsFile(path.join(out, name!));
  t.same(parsed.meta!.codecs, { input: ['f32', 'jpeg:90', 'u8'], inner: ['f32', 'f16', 'int8', 'lz4'] });
  t.match(parsed.meta!.inputs, { kind: 'images', frames: 7, preprocess: 'tf', layout: 'nhwc' });
  // the fidelity of every encoded arm, measured before the sweep on the same 7 frames
  const fidelity = new Map(parsed.meta!.fidelity!.map((f) => [`${f.cut}@${f.codec}`, f]));
  t.same([...fidelity.keys()].sort(), ['input_1@jpeg:90', 'input_1@u8', ...['conv_pw_1_relu', 'conv_pw_5_relu'].flatMap((p) => [`${p}@f16`, `${p}@int8`, `${p}@lz4`])].sort(), 'fidelity of each encoded arm');
  for (const arm of ['input_1@u8', 'conv_pw_1_relu@lz4', 'conv_pw_5_relu@lz4']) t.match(fidelity.get(arm), { max_abs_diff: 0, rel_l2: 0, top1_agreement: 1, inputs: 7 }, `${arm}: lossless, exact`);
  t.equal(fidelity.get('conv_pw_1_relu@f16')!.ratio, 0.5, 'f16: half the float32 bytes');
  t.ok(fidelity.get('input_1@jpeg:90')!.max_abs_diff! > 0, 'jpeg:90: lossy');
  const cells = new Map<string, Map<string, import('hdr-histogram-js').Histogram>>();
  for (const c of parsed.cells) {
    const arm = c.tag.codec ? `${c.tag.cut}@${c.tag.codec}` : c.tag.cut;
    const m = cells.get(arm) ?? new Map();
    m.set(c.tag.metric, c.histogram);
    cells.set(arm, m);
  }
  const arms = ['input_1', 'input_1@jpeg:90', 'input_1@u8', ...['conv_pw_1_relu', 'conv_pw_5_relu'].flatMap((p) => [p, `${p}@f16`, `${p}@int8`, `${p}@lz4`]), 'act_softmax'];
  t.same([...cells.keys()].sort(), arms.sort(), 'every arm has its cell; f32 cells carry no codec');
  for (const [arm, m] of cells) {
    t.same([...m.keys()], [...METRICS, ...CODEC_METRICS], `${arm}: the 4 latencies, then encode, decode, bytes`);
    t.ok([...m.values()].every((h) => h.totalCount === REPS), `${arm}: ${REPS} samples each`);
  }
  const p50 = (arm: string, metric: string) => cells.get(arm)!.get(metric)!.getValueAtPercentile(50);
  const max = (arm: string, metric: string) => cells.get(arm)!.get(metric)!.maxValue;
  // frame bytes: 96 (prefix, header, padding) + the payload; conv_pw_1_relu is 16x16x64, conv_pw_5_relu 4x4x256
  for (const [arm, bytes] of [
    ['input_1', 96 + 32 * 32 * 3 * 4],
    ['input_1@u8', 96 + 32 * 32 * 3],
    ['conv_pw_1_relu', 96 + 16384 * 4],
    ['conv_pw_1_relu@f16', 96 + 16384 * 2],
    ['conv_pw_1_relu@int8', 96 + 16384],
    ['conv_pw_5_relu@f16', 96 + 4096 * 2],
    ['conv_pw_5_relu@int8', 96 + 4096],
  ] as const) {
    t.ok(near(p50(arm, 'bytes'), bytes) && near(max(arm, 'bytes'), bytes), `${arm}: ${bytes} bytes a request (got ${p50(arm, 'bytes')})`);
  }
  t.ok(p50('input_1@jpeg:90', 'bytes') < p50('input_1@u8', 'bytes'), `jpeg:90 frames are smaller than the raw RGB (${p50('input_1@jpeg:90', 'bytes')} bytes)`);
  t.ok(max('conv_pw_1_relu@lz4', 'bytes') < p50('conv_pw_1_relu', 'bytes'), 'lz4 shrinks a ReLU output');
  t.equal(max('act_softmax', 'bytes'), 0, 'edge-only: nothing sent');
  for (const arm of ['input_1', 'conv_pw_1_relu', 'conv_pw_5_relu', 'act_softmax']) {
    t.equal(max(arm, 'encode') + max(arm, 'decode'), 0, `${arm} (f32): nothing encoded or decoded`);
  }
  for (const arm of ['input_1@jpeg:90', 'conv_pw_1_relu@f16', 'conv_pw_1_relu@int8', 'conv_pw_1_relu@lz4']) {
    t.ok(max(arm, 'encode') > 0 && max(arm, 'decode') > 0, `${arm}: encode (${p50(arm, 'encode')} µs) and decode (${p50(arm, 'decode')} µs) recorded`);
  }
  t.equal(max('input_1@jpeg:90', 'edge'), 0, 'a camera frame sent as JPEG: the edge neither preprocesses nor computes');
  t.ok(max('input_1', 'edge') > 0, 'raw f32 at the input point: the edge preprocesses (timed as edge)');

  const report = await runBin('dnn-report', [path.join(out, name!)]);
  t.equal(report.exitCode, 0, `dnn-report reads the file: ${String(report.stderr)}`);
});

t.test("through the edge's link to the same cloud: lossless arms give the f32 output exactly, lossy ones close", async (t) => {
  await selectBackend('auto');
  const network = await loadNetwork('mobilenet', { seed: 1, inputShape: [32, 32, 3] });
  const runner = createSplitRunner(network);
  const convention = conventionOf(network);
  const link = await ProtocolLink.open({
    host: '127.0.0.1',
    port: cloud.port,
    maxFrame: 1 << 24,
    requestTimeoutMs: 30_000,
    giveUpMs: 5000,
    log: () => {},
    hello: { type: 'HELLO', version: PROTOCOL_VERSION, network: network.id, fingerprint: network.fingerprint, seed: network.seed, backend: 'test', client: hostInfo(), preprocess: { mode: convention.mode, layout: convention.layout } },
  });
  t.teardown(async () => {
    await link.close();
    await runner.dispose();
    disposeNetwork(network);
  });
  const [frame] = await loadFrames(parseInputs(undefined), frameSize(network));
  const x = { data: toTensor(frame!, convention), shape: [1, ...network.inputShape] };
  const relL2 = (a: Float32Array, b: Float32Array) => {
    let d = 0;
    let n = 0;
    for (let i = 0; i < a.length; i++) {
      d += (a[i]! - b[i]!) ** 2;
      n += b[i]! ** 2;
    }
    return Math.sqrt(d / n);
  };

  t.match(link.server!.versions, { zstd: /^1\.\d+\.\d+$/ }, "dnn-cloud's WELCOME names its zstd (the edge refuses zstd codecs without it)");
  const input = network.cuts[0]!;
  const f32 = (await link.infer(input, x)).output.data.slice();
  for (const codec of parseInputCodecList('u8,png,jpeg:90')) {
    const payload = await encodeFrame(frame!, codec);
    const reply = await link.infer(input, { data: new Float32Array(0), shape: x.shape }, { codec: { id: codec.id, scale: 0, zeroPoint: 0, params: new Uint8Array(0) }, payload });
    t.ok(reply.decodeMs! > 0, `${codec.label}: the cloud's decode time comes back`);
    if (codec.name === 'jpeg') t.ok(relL2(reply.output.data, f32) < 0.05, `${codec.label}: close to the f32 output (rel L2 ${relL2(reply.output.data, f32).toFixed(4)})`);
    else t.same(Array.from(reply.output.data), Array.from(f32), `${codec.label}: the frame arrives whole, the same output as f32`);
  }

  for (const layer of ['conv_pw_1_relu', 'conv_pw_5_relu']) {
    const cut = network.cuts.find((c) => c.layer === layer)!;
    const edge = (await runner.edge(cut, x)).value;
    const raw = (await link.infer(cut, edge)).output.data.slice();
    const outputs = new Map<string, number[]>();
    for (const codec of parseCodecList('lz4,deflate,zstd,f16,int8,int8-ch,int8+zstd')) {
      const e = codec.encode(edge.data, edge.shape);
      const reply = await link.infer(cut, { data: new Float32Array(0), shape: edge.shape }, { codec: { id: codec.id, scale: e.scale, zeroPoint: e.zeroPoint, params: e.params }, payload: e.payload });
      outputs.set(codec.name, Array.from(reply.output.data));
      if (codec.name === 'lz4' || codec.name === 'deflate' || codec.name === 'zstd') t.same(Array.from(reply.output.data), Array.from(raw), `${layer} ${codec.name}: lossless, the f32 output bit for bit`);
      else t.ok(relL2(reply.output.data, raw) < (codec.name === 'f16' ? 1e-3 : 1e-2), `${layer} ${codec.name}: close (rel L2 ${relL2(reply.output.data, raw).toFixed(5)})`);
    }
    t.same(outputs.get('int8+zstd'), outputs.get('int8'), `${layer} int8+zstd: the int8 output exactly`);
  }
});

// test-lane: full (every point of lenet and of a small mobilenet, a sample of squeezenet1_1: ~20 s)
import t, { type Test } from 'tap';
import path from 'node:path';
import { FIXTURES } from '../helpers/cli.js';
import { selectBackend, type BackendChoice } from '../../src/engine/backend.js';
import { benchmarkInput, createSplitRunner } from '../../src/engine/split-runner.js';
import { loadNetwork } from '../../src/engine/load-network.js';
import { parseCodecList, LOSSLESS } from '../../src/codecs/index.js';
import type { Network } from '../../src/model/network.js';
import { measureTensorCodecs } from '../../src/fidelity/measure-tensors.js';
import type { FidelityRecord } from '../../src/fidelity/record.js';

/*
 * Tensor codecs measured for real at every inner point of a small zoo model (TF.js, NHWC) and of
 * the squeezenet1_1 fixture (ONNX Runtime, NCHW), on seeded random inputs: lossless codecs give the
 * reference exactly, the byte counts are the codecs' own, and the lossy ones deviate (int8 more
 * than f16): a codec silently sending float32 would fail here.
 */

const CODECS = 'f32,lz4,deflate,brotli,zstd,f16,int8,int8-ch,int8+lz4,int8+zstd';

async function measure(spec: string, backend: BackendChoice, inputShape: number[] | undefined, pick: (n: Network) => Network['cuts']): Promise<{ network: Network; records: FidelityRecord[] }> {
  await selectBackend(backend, { threads: 1 });
  const network = await loadNetwork(spec, { seed: 1, inputShape });
  const runner = createSplitRunner(network);
  try {
    const inputs = [0, 1, 2].map((i) => benchmarkInput(network.inputShape, 10 + i));
    const records = await measureTensorCodecs(runner, network, pick(network), parseCodecList(CODECS), inputs);
    return { network, records };
  } finally {
    await runner.dispose();
  }
}

function check(t: Test, network: Network, records: FidelityRecord[], channelAxis: (shape: number[]) => number): void {
  const of = (cut: string, codec: string) => records.find((r) => r.cut === cut && r.codec === codec)!;
  const cuts = [...new Set(records.map((r) => r.cut))];
  t.ok(cuts.length >= 3, `${cuts.length} points measured`);
  let f16Deviates = 0;
  for (const layer of cuts) {
    const cut = network.cuts.find((c) => c.layer === layer)!;
    if (cut.kind === 'output') {
      t.same(records.filter((r) => r.cut === layer).map((r) => [r.codec, r.bytes, r.ratio, r.max_abs_diff, r.top1_agreement]), [['f32', 0, 1, 0, 1]], `${layer}: edge-only, one f32 record, nothing crosses`);
      continue;
    }
    for (const name of LOSSLESS) {
      const r = of(layer, name);
      t.same([r.max_abs_diff, r.rel_l2, r.top1_agreement, r.top5_agreement, r.inputs], [0, 0, 1, 1, 3], `${layer} ${name}: exact`);
    }
    t.equal(of(layer, 'f32').bytes, cut.bytes);
    t.equal(of(layer, 'f16').bytes, cut.bytes / 2, `${layer}: f16 is half of f32`);
    t.equal(of(layer, 'f16').ratio, 0.5);
    t.equal(of(layer, 'int8').bytes, cut.bytes / 4, `${layer}: int8 is a quarter (scale and zero point ride in the header)`);
    const channels = [1, ...cut.shape][channelAxis([1, ...cut.shape])]!;
    t.equal(of(layer, 'int8-ch').bytes, cut.bytes / 4 + 8 + 5 * channels, `${layer}: int8-ch is a quarter plus 8 + 5 x ${channels} parameter bytes`);
    // lz4 cannot shrink what has no redundancy (pre-activation tensors); its worst case adds 0.4 % + 16 bytes
    t.ok(of(layer, 'int8+lz4').bytes <= (cut.bytes / 4) * 1.004 + 16, `${layer}: int8+lz4 at most int8's bytes and lz4's worst-case overhead`);
    // zstd's worst case: a raw block (3 bytes of header per 128 KiB) in a frame of at most 18 bytes of header
    t.ok(of(layer, 'int8+zstd').bytes <= cut.bytes / 4 + 3 * Math.ceil(cut.bytes / 4 / 131072) + 18, `${layer}: int8+zstd at most int8's bytes and zstd's worst-case overhead`);
    const f16 = of(layer, 'f16');
    const int8 = of(layer, 'int8');
    t.ok(int8.rel_l2 > f16.rel_l2, `${layer}: int8 deviates more than f16 (rel L2 ${int8.rel_l2} > ${f16.rel_l2})`);
    t.ok(int8.max_abs_diff >= f16.max_abs_diff, `${layer}: int8 max abs diff ${int8.max_abs_diff} >= f16's ${f16.max_abs_diff}`);
    if (f16.max_abs_diff > 0) f16Deviates++;
    t.equal(of(layer, 'int8+lz4').max_abs_diff, int8.max_abs_diff, `${layer}: lz4 after int8 adds no error`);
    t.same([of(layer, 'int8+zstd').max_abs_diff, of(layer, 'int8+zstd').rel_l2], [int8.max_abs_diff, int8.rel_l2], `${layer}: zstd after int8 adds no error`);
    for (const r of records.filter((r) => r.cut === layer)) {
      t.ok(r.encode_ms >= 0 && r.decode_ms >= 0, `${layer} ${r.codec}: times`);
      t.ok(r.top1_agreement >= 0 && r.top1_agreement <= r.top5_agreement && r.top5_agreement <= 1);
    }
  }
  t.ok(f16Deviates > 0, 'f16 rounding reaches the output at some point (it is not float32 in disguise)');
}

t.test('lenet (TF.js wasm, NHWC): every point', async (t) => {
  const { network, records } = await measure('lenet', 'wasm', undefined, (n) => n.cuts.filter((c) => c.kind !== 'input'));
  t.equal(records.length, 1 + 10 * (network.cuts.length - 2), 'inner points x codecs, and one record for edge-only');
  check(t, network, records, (dims) => dims.length - 1);
});

t.test('squeezenet1_1.onnx (ONNX Runtime, NCHW): a sample of points', async (t) => {
  const { network, records } = await measure(path.join(FIXTURES, 'onnx/squeezenet1_1.onnx'), 'onnx', undefined, (n) => [n.cuts[1]!, n.cuts[6]!, n.cuts[20]!, n.cuts.at(-2)!, n.cuts.at(-1)!]);
  check(t, network, records, (dims) => (dims.length > 2 ? 1 : dims.length - 1));
});

t.test('mobilenet at 32x32 (the zoo on ONNX Runtime): lossless codecs exact at every point', async (t) => {
  await selectBackend('onnx', { threads: 1 });
  const network = await loadNetwork('mobilenet', { seed: 1, inputShape: [32, 32, 3] });
  const runner = createSplitRunner(network);
  const inputs = [benchmarkInput(network.inputShape, 10)];
  const inner = network.cuts.filter((c) => c.kind === 'inner');
  const records = await measureTensorCodecs(runner, network, inner, parseCodecList('lz4,deflate,zstd,f16'), inputs);
  await runner.dispose();
  t.equal(records.length, 4 * inner.length);
  const inexact = records.filter((r) => r.codec !== 'f16' && r.max_abs_diff !== 0).map((r) => `${r.cut} ${r.codec} ${r.max_abs_diff}`);
  t.same(inexact, [], `lz4, deflate and zstd exact at all ${inner.length} inner points`);
  t.ok(records.some((r) => r.codec === 'f16' && r.max_abs_diff > 0), 'f16 is not');
});

t.test('the input point is refused: its codecs encode camera frames', async (t) => {
  await selectBackend('cpu');
  const network = await loadNetwork('lenet', { seed: 1 });
  const runner = createSplitRunner(network);
  await t.rejects(measureTensorCodecs(runner, network, [network.cuts[0]!], parseCodecList('f16'), []), /is the input point/);
});

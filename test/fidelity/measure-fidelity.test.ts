// test-lane: full (squeezenet1_1 on ONNX Runtime with five input codecs on photographs: ~5 s)
import t from 'tap';
import path from 'node:path';
import { FIXTURES } from '../helpers/cli.js';
import { selectBackend } from '../../src/engine/backend.js';
import { createSplitRunner } from '../../src/engine/split-runner.js';
import { loadNetwork } from '../../src/engine/load-network.js';
import { parseCodecList } from '../../src/codecs/index.js';
import { conventionOf, frameSize, loadFrames, parseInputCodecList, parseInputs } from '../../src/inputs/index.js';
import { measureFidelity, type FidelityProgress } from '../../src/fidelity/index.js';

/*
 * measureFidelity on camera frames (the shipped photographs) end to end, on the squeezenet1_1
 * fixture (ONNX Runtime, NCHW, torch preprocessing): the input point's codecs encode the frame,
 * the inner points' codecs the crossing tensor, and every output is compared with the unsplit
 * model's on the same frame.
 */

t.test('squeezenet1_1 on photographs: input codecs at the input point, tensor codecs inside', async (t) => {
  await selectBackend('onnx', { threads: 1 });
  const network = await loadNetwork(path.join(FIXTURES, 'onnx/squeezenet1_1.onnx'), { seed: 1 });
  const convention = conventionOf(network);
  t.same([convention.mode, convention.layout], ['torch', 'nchw']);
  const frames = await loadFrames(parseInputs(undefined), frameSize(network), { atLeast: 3, seed: 1 });
  const cuts = [network.cuts[0]!, network.cuts[3]!, network.cuts.at(-1)!];
  const runner = createSplitRunner(network);
  const progress: FidelityProgress[] = [];
  const records = await measureFidelity(
    runner,
    network,
    cuts,
    { inner: parseCodecList('f32,f16,int8'), input: parseInputCodecList('raw-f32,u8,png,jpeg:90,jpeg:20') },
    frames.slice(0, 3),
    convention,
    (p) => progress.push(p),
  );
  await runner.dispose();

  t.same(
    records.map((r) => `${r.cut} ${r.codec}`),
    [...['f32', 'u8', 'png', 'jpeg:90', 'jpeg:20'].map((c) => `${cuts[0]!.layer} ${c}`), ...['f32', 'f16', 'int8'].map((c) => `${cuts[1]!.layer} ${c}`), `${cuts[2]!.layer} f32`],
    'in the order of the points, then of the codecs',
  );
  t.same(progress.map((p) => [p.cut, p.done, p.total]), cuts.map((c, i) => [c.layer, i + 1, 3]));
  const of = (cut: number, codec: string) => records.find((r) => r.cut === cuts[cut]!.layer && r.codec === codec)!;
  const pixels = 224 * 224;
  for (const codec of ['f32', 'u8', 'png']) {
    const r = of(0, codec);
    t.same([r.max_abs_diff, r.rel_l2, r.top1_agreement, r.top5_agreement, r.inputs], [0, 0, 1, 1, 3], `input point ${codec}: lossless, the f32 tensor exactly`);
  }
  t.equal(of(0, 'f32').bytes, 4 * 3 * pixels, 'f32 sends the preprocessed tensor');
  t.equal(of(0, 'u8').bytes, 3 * pixels, 'u8 sends the RGB frame');
  t.equal(of(0, 'u8').ratio, 0.25);
  t.equal(of(0, 'f32').encode_ms, 0, 'nothing to encode: the edge preprocesses as part of its compute');
  const [png, q90, q20] = [of(0, 'png'), of(0, 'jpeg:90'), of(0, 'jpeg:20')];
  t.ok(q90.bytes < png.bytes && q20.bytes < q90.bytes, `jpeg:20 ${q20.bytes} < jpeg:90 ${q90.bytes} < png ${png.bytes} bytes`);
  t.ok(q90.rel_l2 > 0 && q20.rel_l2 > q90.rel_l2, `jpeg deviates, more at quality 20 (${q20.rel_l2}) than at 90 (${q90.rel_l2})`);
  t.ok(q90.encode_ms > 0 && q90.decode_ms > 0, 'image encode and decode+preprocess are timed');
  t.same([of(1, 'f32').max_abs_diff, of(1, 'f32').top1_agreement], [0, 1]);
  t.ok(of(1, 'int8').rel_l2 > of(1, 'f16').rel_l2 && of(1, 'f16').rel_l2 > 0, 'int8 deviates more than f16, f16 more than nothing');
  t.same([of(2, 'f32').bytes, of(2, 'f32').max_abs_diff], [0, 0], 'edge-only: nothing crosses, the output is the model');
});

t.test('a network of another input size: frames at its size, grayscale by luminance (lenet 28x28x1, TF.js)', async (t) => {
  await selectBackend('cpu');
  const network = await loadNetwork('lenet', { seed: 1 });
  const convention = conventionOf(network);
  const frames = await loadFrames(parseInputs(undefined), frameSize(network), { atLeast: 2, seed: 1 });
  const runner = createSplitRunner(network);
  const records = await measureFidelity(runner, network, [network.cuts[0]!], { inner: [], input: parseInputCodecList('u8,jpeg') }, frames.slice(0, 2), convention);
  t.same(records.map((r) => [r.codec, r.bytes, r.max_abs_diff]).slice(0, 1), [['u8', 28 * 28 * 3, 0]], 'u8 sends the RGB frame; the cloud makes the same luminance');
  t.equal(records[1]!.codec, 'jpeg:90');
  t.ok(records[1]!.bytes < 28 * 28 * 3);
});

// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { agreement, maxAbsDiff, relativeL2, topK } from '../../src/fidelity/compare.js';
import { FidelityTally } from '../../src/fidelity/record.js';

const f = (xs: number[]) => Float32Array.from(xs);

t.test('maxAbsDiff and relativeL2 against hand-computed values', async (t) => {
  t.equal(maxAbsDiff(f([1, 2, 3]), f([1, 2, 3])), 0);
  t.equal(maxAbsDiff(f([1, -2, 3.5]), f([1, 2, 3])), 4);
  t.ok(Number.isNaN(maxAbsDiff(f([NaN, 0]), f([1, 0]))), 'a NaN output is the worst deviation, not a skipped one');
  t.equal(relativeL2(f([3, 4]), f([3, 4])), 0);
  t.equal(relativeL2(f([0, 0]), f([3, 4])), 1, '||ref|| = 5, ||y - ref|| = 5');
  t.equal(relativeL2(f([3, 5]), f([3, 4])), 1 / 5);
  t.equal(relativeL2(f([0, 0]), f([0, 0])), 0);
  t.equal(relativeL2(f([1, 0]), f([0, 0])), Infinity);
  t.throws(() => maxAbsDiff(f([1]), f([1, 2])), /output has 1 values, the reference 2/);
});

t.test('topK: largest first, ties to the lower position, NaN last', async (t) => {
  t.same(topK(f([0.1, 0.5, 0.2, 0.9, 0.3, 0.0, 0.4]), 5), [3, 1, 6, 4, 2]);
  t.same(topK(f([1, 1, 1, 1, 1, 1]), 5), [0, 1, 2, 3, 4]);
  t.same(topK(f([NaN, 2, NaN, 1]), 3), [1, 3, 0]);
  t.same(topK(f([2, 7]), 5), [1, 0], 'fewer classes than k: all of them');
});

t.test("agreement: top-1 equal argmax; top-5 the reference's class among the output's five highest", async (t) => {
  const ref = f([0, 9, 1, 2, 3, 4, 5, 6]); // class 1
  t.same(agreement(ref, ref), { top1: true, top5: true });
  // class 1 is the output's 5th highest: top-5 yes, top-1 no
  t.same(agreement(f([0, 4, 1, 2, 3, 5, 6, 7]), ref), { top1: false, top5: true });
  // class 1 is the output's 6th highest
  t.same(agreement(f([0, 3, 1, 4, 4.5, 5, 6, 7]), ref), { top1: false, top5: false });
});

t.test('a tally: mean bytes, ratio to f32, median times, worst diff, mean rel L2, agreement shares', async (t) => {
  const tally = new FidelityTally('conv1', 'int8', 400);
  const ref = f([1, 5, 2]);
  tally.add({ bytes: 100, encodeMs: 3, decodeMs: 1 }, f([1, 5, 2]), ref);
  tally.add({ bytes: 110, encodeMs: 1, decodeMs: 9 }, f([1, 2, 4]), ref);
  tally.add({ bytes: 120, encodeMs: 2, decodeMs: 2 }, f([1, 4.5, 2]), ref);
  const r = tally.record();
  t.same(r, {
    cut: 'conv1',
    codec: 'int8',
    bytes: 110,
    ratio: 110 / 400,
    encode_ms: 2,
    decode_ms: 2,
    max_abs_diff: 3,
    rel_l2: (0 + Math.sqrt(13 / 30) + Math.sqrt(0.25 / 30)) / 3,
    top1_agreement: 2 / 3,
    top5_agreement: 1,
    inputs: 3,
  });
  t.equal(Object.keys(r).join(','), 'cut,codec,bytes,ratio,encode_ms,decode_ms,max_abs_diff,rel_l2,top1_agreement,top5_agreement,inputs');
  t.throws(() => new FidelityTally('x', 'f16', 4).record(), /no input measured/);
});

// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { calibrateSlowdown, type SlowdownProbe } from '../../src/edge/calibrate.js';

/** A probe whose edge time follows `edgeAt(cores)`, the cloud at 10 ms; it records the cores set. */
function probe(edgeAt: (cores: number) => number): SlowdownProbe & { set: number[] } {
  let cores = 1;
  const set: number[] = [];
  return {
    set,
    setCores: (c) => {
      cores = c;
      set.push(c);
    },
    measure: async () => ({ edgeMs: edgeAt(cores), cloudMs: 10 }),
  };
}

t.test('a model a quota slows in proportion: the steps converge on the target', async (t) => {
  const p = probe((c) => 12 / c);
  const r = await calibrateSlowdown(5, 1, p, () => undefined);
  t.ok(Math.abs(r.reached / 5 - 1) <= 0.05, `reached ${r.reached}`);
  t.ok(Math.abs(r.cores - 0.24) < 0.01, `cores ${r.cores}`);
  t.equal(p.set.at(-1), r.cores, 'the device is left at the cores reported');
});

t.test('a model too short for a quota to slow it: the closest step is kept, not the starving last one', async (t) => {
  // lenet on onnx: ~1.5 ms, inside one quota slice down to the kernel's smallest quota (measured: 0.73-0.88x from 1 to 0.01 cores)
  const p = probe(() => 8);
  const lines: string[] = [];
  const r = await calibrateSlowdown(3, 1, p, (l) => lines.push(l));
  t.equal(r.cores, 1, 'no step came closer: the edge keeps its full core instead of a starving 0.01');
  t.equal(p.set.at(-1), r.cores, 'the device is set back to the kept step');
  t.match(lines.at(-1), /not within 5 % of 3x: keeping the closest step/);
  t.ok(Math.abs(r.reached - r.edgeMs / r.cloudMs) < 1e-9, 'what it reports is what the kept step measured');
});

t.test('an edge slower than the target already at full speed is reported unreachable at full speed', async (t) => {
  const r = await calibrateSlowdown(2, 1, probe(() => 30), () => undefined);
  t.equal(r.unreachable, true);
  t.equal(r.cores, 1);
});

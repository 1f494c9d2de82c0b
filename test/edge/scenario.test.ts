// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
// Scenarios and their arrivals: pure functions, no timing.
import t from 'tap';
import { UserError } from '../../src/errors.js';
import { checkInFlight, parseScenario, scenarioLabel } from '../../src/edge/stream/scenario.js';
import { arrivalOffsets, arrivalSeed } from '../../src/edge/stream/arrivals.js';

t.test('parseScenario and scenarioLabel', async (t) => {
  t.same(parseScenario('single'), { kind: 'single' });
  t.same(parseScenario('max'), { kind: 'max' });
  t.same(parseScenario('stream:15'), { kind: 'stream', fps: 15 });
  t.same(parseScenario('server:2.5'), { kind: 'server', rate: 2.5 });
  for (const text of ['single', 'max', 'stream:15', 'stream:29.97', 'server:20']) t.equal(scenarioLabel(parseScenario(text)), text, `${text} round trips`);
  for (const bad of ['', 'stream', 'stream:', 'stream:0', 'stream:-3', 'stream:abc', 'server:1e9', 'offline', 'max:3', 'stream:15fps']) {
    t.throws(() => parseScenario(bad), UserError, `'${bad}' is refused`);
  }
  t.throws(() => parseScenario('warp'), /--scenario must be single, stream:FPS .* got 'warp'/);
  t.throws(() => parseScenario('stream:0'), /frame rate must be a number above 0/);
  t.equal(checkInFlight(1), 1);
  t.equal(checkInFlight(64), 64);
  t.throws(() => checkInFlight(0), /--in-flight must be an integer from 1 to 64/);
  t.throws(() => checkInFlight(65), UserError);
});

t.test('arrivals: a camera every 1/FPS; Poisson at RATE, seeded; max has none', async (t) => {
  t.same(arrivalOffsets({ kind: 'stream', fps: 20 }, 4, 1), [0, 50, 100, 150]);
  t.equal(arrivalOffsets({ kind: 'max' }, 4, 1), undefined);
  const rate = 40;
  const n = 20_000;
  const a = arrivalOffsets({ kind: 'server', rate }, n, 12345)!;
  t.equal(a[0], 0);
  t.ok(a.every((x, i) => i === 0 || x >= a[i - 1]!), 'increasing');
  const gaps = a.slice(1).map((x, i) => x - a[i]!);
  const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
  // exponential gaps: sd = mean, so the mean of 20,000 is within 3 % of 25 ms (about 4 standard errors)
  t.ok(Math.abs(mean - 1000 / rate) < 0.03 * (1000 / rate), `mean gap ${mean.toFixed(2)} ms ~ 25 ms`);
  const sd = Math.sqrt(gaps.reduce((s, g) => s + (g - mean) ** 2, 0) / gaps.length);
  t.ok(Math.abs(sd / mean - 1) < 0.05, `coefficient of variation ${(sd / mean).toFixed(3)} ~ 1 (exponential)`);
  t.same(arrivalOffsets({ kind: 'server', rate }, 50, 12345), a.slice(0, 50), 'the same seed offers the same arrivals');
  t.not(arrivalOffsets({ kind: 'server', rate }, 50, 999)![1], a[1], 'another seed, others');
  t.not(arrivalSeed(1, 'cut=a'), arrivalSeed(1, 'cut=b'), 'each cell draws its own');
  t.equal(arrivalSeed(1, 'cut=a'), arrivalSeed(1, 'cut=a'));
});

// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { planConditions, spreadPoints, describeGrid, needsShaping, QUICK_POINTS } from '../../src/edge/run-selection.js';
import { formatDuration, ProgressTracker } from '../../src/edge/progress.js';
import type { CutPoint } from '../../src/model/partition.js';
import { PassThrough } from 'node:stream';

const flags = (over: Partial<Parameters<typeof planConditions>[0]> = {}) => ({ levels: {}, design: 'factorial' as const, shape: true, quick: false, ...over });

t.test('condition plans from flags', async (t) => {
  t.equal(planConditions(flags()).length, 243, 'the study grid by default');
  const quick = planConditions(flags({ quick: true }));
  t.same(quick.map((c) => [c.net, c.ecpu]), [[50, 0], [50, 100], [10, 0], [10, 100]], '--quick: 2 rates x edge CPU idle/saturated');
  t.ok(quick.every((c) => c.emem === 0 && c.ccpu === 0 && c.cmem === 0));
  const unshaped = planConditions(flags({ shape: false, levels: { ecpu: '0,100' }, design: 'one-at-a-time' }));
  t.ok(unshaped.every((c) => c.net === null), '--no-shape: the network as it is');
  t.notOk(needsShaping(unshaped));
  t.equal(planConditions(flags({ design: 'one-at-a-time' })).length, 11, 'one at a time: baseline + 2 per varied factor');
  t.throws(() => planConditions(flags({ shape: false, levels: { net: '10' } })), /--net need shaping/);
  t.match(describeGrid(quick), /^4 conditions \(net 50\/10, ecpu 0\/100\)$/);
});

t.test('--quick point subset keeps both ends and spreads evenly', async (t) => {
  const cuts = Array.from({ length: 93 }, (_, i) => ({ index: i, layer: `l${i}` }) as CutPoint);
  const picked = spreadPoints(cuts, QUICK_POINTS);
  t.equal(picked.length, QUICK_POINTS);
  t.equal(picked[0], cuts[0], 'cloud-only kept');
  t.equal(picked.at(-1), cuts.at(-1), 'edge-only kept');
  t.ok(picked.every((c, i) => i === 0 || c.index > picked[i - 1]!.index), 'in model order');
  t.equal(spreadPoints(cuts.slice(0, 5), QUICK_POINTS).length, 5, 'small models keep every point');
});

t.test('progress: plain lines off a TTY, ETA from the pace of this run', async (t) => {
  const out = new PassThrough() as unknown as NodeJS.WriteStream;
  let text = '';
  (out as unknown as PassThrough).on('data', (d: Buffer) => (text += d.toString()));
  const p = new ProgressTracker(out);
  p.start(10, 4);
  t.equal(p.eta(), null, 'no ETA before a cell of this run is done');
  p.cellStarted('net=10', 'conv1');
  p.cellDone('net=10', 'conv1', 'total 5 ms');
  t.ok(p.eta()! >= 0);
  p.finish();
  t.match(text, /resuming: 4 of 10 cells already measured/);
  t.match(text, /\[5\/10\] net=10 conv1: total 5 ms/);
  t.match(text, /done: 5\/10 cells/);
  t.equal(formatDuration(42), '42s');
  t.equal(formatDuration(125), '2m05s');
  t.equal(formatDuration(7260), '2h01m');
  t.equal(formatDuration(2699.6), '45m00s', 'rounded before it is split: never 44m60s');
  t.equal(formatDuration(59.6), '1m00s');
  t.equal(formatDuration(7199), '2h00m', 'never 1h60m');
});

t.test('results file names never collide', async (t) => {
  const { freshResultsPath } = await import('../../src/edge/run-edge.js');
  const { mkdtemp, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const dir = await mkdtemp(path.join(tmpdir(), 'dnn-names-'));
  const when = new Date('2026-11-26T12:34:56.789Z');
  const first = freshResultsPath(dir, 'vgg16', when);
  t.equal(path.basename(first), 'vgg16-20261126T123456Z.hdr');
  await writeFile(first, '');
  t.equal(path.basename(freshResultsPath(dir, 'vgg16', when)), 'vgg16-20261126T123456Z-2.hdr');
});

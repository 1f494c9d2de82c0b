// test-lane: full (edge and cloud processes end to end: too slow for `npm run test:unit`)
import t from 'tap';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { HistogramLogReader } from 'hdr-histogram-js';
import { ROOT, runBin } from '../helpers/cli.js';
import { startCloud, stopCloud, freePort } from '../helpers/cloud-process.js';
import { readResultsFile } from '../../src/results/log-reader.js';
import { ResultsWriter } from '../../src/results/log-writer.js';
import { METRICS } from '../../src/results/tags.js';

// the subtests side by side (each its own cloud and port): much of each is waiting (a cloud's
// start, --give-up's 2 s, the restart's pauses); no timing is asserted here
t.jobs = 2;

const REPS = 4;
/** one unshaped, unstressed condition: these tests are about the protocol loop, not conditions */
const PLAIN = ['--no-shape', '--edge-cpu', '0', '--edge-mem', '0', '--cloud-cpu', '0', '--cloud-mem', '0', '--reference-every', '0'];

t.test('edge against a real cloud: every point measured, file readable by HdrHistogram tools', async (t) => {
  const cloud = await startCloud('lenet');
  const out = await mkdtemp(path.join(tmpdir(), 'dnn-edge-'));
  const r = await runBin('dnn-edge', ['127.0.0.1', 'lenet', '--port', String(cloud.port), '--out', out, '--reps', String(REPS), ...PLAIN]);
  // the same cloud races 3 points far apart, then resumes the raced file: the edge on the plain-JS backend (lenet's
  // edge-only ~20 ms against ~2 ms cloud-only, an early split between) so that a loaded machine still tells them apart
  const raceOut = await mkdtemp(path.join(tmpdir(), 'dnn-edge-race-'));
  const race = ['127.0.0.1', 'lenet', '--port', String(cloud.port), '--backend', 'cpu', '--reps', '12', '--race', '--cuts', 'conv2d_1_input,conv2d_1,activation_4', ...PLAIN];
  const raced = await runBin('dnn-edge', [...race, '--out', raceOut]);
  const [racedFile] = (await readdir(raceOut)).map((f) => path.join(raceOut, f));
  await stopCloud(cloud);
  t.test('--race: points significantly slower leave early with a #dnn-raced line; a resume finds every cell complete', async (t) => {
    t.equal(raced.exitCode, 0, String(raced.stderr));
    const text = await readFile(racedFile!, 'utf8');
    const lines = text.split('\n');
    const racedLines = lines.filter((l) => l.startsWith('#dnn-raced '));
    t.ok(racedLines.length >= 1, `${racedLines.length} raced cell(s)`);
    const parsed = readResultsFile(racedFile!);
    t.match(parsed.meta!.race, { min_reps: 3, prior: 1.5, confidence: 0.95, looks: 9 });
    t.match(parsed.meta!.plan!.race, { min_reps: 3 }, 'the plan is a raced one (hashes apart from the exhaustive plan)');
    const totals = parsed.cells.filter((c) => c.tag.metric === 'total');
    for (const l of racedLines) {
      const v = JSON.parse(l.slice('#dnn-raced '.length)) as { cell: string; samples: number; rule: string };
      const cell = totals.find((c) => v.cell.endsWith(`;cut=${c.tag.cut}`))!;
      // the run's one condition has no cost model to predict it: the pilot (the warm-ups) may make far points probes, which leave after 1
      const least = v.rule === 'prior' ? 1 : 3;
      t.ok(v.samples >= least && v.samples < 12 && cell.histogram.totalCount === v.samples, `${cell.tag.cut}: ${v.samples} samples (${v.rule}), fewer than --reps`);
      // the line comes just before its cell's histograms
      t.match(lines[lines.indexOf(l) + 1], new RegExp(`^Tag=${v.cell.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')};metric=`));
    }
    t.ok(totals.some((c) => c.histogram.totalCount === 12), 'the survivors get every rep');
    // --resume: every cell of the raced file is complete (raced ones with their line), nothing is cut, nothing left to measure
    // (in process: what dnn-edge --resume opens the file with; a second process start would cost the suite ~4 s of CPU)
    const before = text.length;
    const resumed = await ResultsWriter.resume(racedFile!);
    await resumed.writer.close();
    t.same([resumed.done.size, resumed.dropped.bytes], [3, 0], 'a complete raced file: every cell done, nothing cut');
    t.equal((await readFile(racedFile!, 'utf8')).length, before);
  });
  t.equal(r.exitCode, 0, String(r.stderr));
  const [file] = await readdir(out);
  t.match(file, /^lenet-\d{8}T\d{6}Z\.hdr$/);
  const text = await readFile(path.join(out, file!), 'utf8');

  // hdr-histogram-js's own log reader reads every histogram
  const reader = new HistogramLogReader(text);
  let n = 0;
  for (let h = reader.nextIntervalHistogram(); h; h = reader.nextIntervalHistogram()) {
    t.equal(h.totalCount, REPS, `${h.tag}: ${REPS} samples`);
    n++;
  }
  const parsed = readResultsFile(path.join(out, file!));
  const cuts = parsed.meta!.cuts;
  t.equal(n, cuts.length * METRICS.length, 'one histogram per point and metric');
  t.equal(parsed.meta!.network, 'lenet');
  t.equal(parsed.meta!.edge.backend, parsed.meta!.cloud.backend);
  t.match(parsed.meta!.cloud.versions, { stressor: /^(stress-ng|builtin)$/ }, 'the cloud\'s stressor is recorded');
  const edgeOnly = parsed.cells.filter((c) => c.tag.cut === cuts.at(-1)!.layer);
  t.same(edgeOnly.filter((c) => c.tag.metric !== 'edge' && c.tag.metric !== 'total').map((c) => c.histogram.maxValue), [0, 0], 'edge-only: no transfer, no cloud');
  const cloudOnly = parsed.cells.find((c) => c.tag.cut === cuts[0]!.layer && c.tag.metric === 'cloud')!;
  t.ok(cloudOnly.histogram.getValueAtPercentile(50) > 0, 'cloud-only: the cloud computes');
  t.match(String(r.stderr), /12 cells, 48 samples, 0 samples redone/);
});

t.test('a cloud killed and restarted mid-run: the run completes with every sample and counts retries', async (t) => {
  const port = await freePort();
  let cloud = await startCloud('lenet', [], port);
  const out = await mkdtemp(path.join(tmpdir(), 'dnn-edge-restart-'));
  const reps = 150;
  const edge = execa(path.join(ROOT, 'bin/dnn-edge'), ['127.0.0.1', 'lenet', '--port', String(port), '--out', out, '--reps', String(reps), '--give-up', '60s', ...PLAIN], {
    reject: false,
    env: { NODE_OPTIONS: '' },
    stdin: 'ignore',
  });
  // points are interleaved rep by rep and a condition's cells are written once all its samples are
  // in: wait until measuring has begun (the order line), let it run a while, then kill the cloud hard
  let stderr = '';
  edge.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; i < 1200 && !/\norder: /.test(stderr); i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1000));
  await stopCloud(cloud, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 700));
  cloud = await startCloud('lenet', [], port);
  const r = await edge;
  await stopCloud(cloud);
  t.equal(r.exitCode, 0, String(r.stderr));
  const m = /(\d+) cells, (\d+) samples, (\d+) samples redone/.exec(String(r.stderr));
  t.ok(m, 'summary printed');
  t.equal(Number(m![1]), 12);
  t.equal(Number(m![2]), 12 * reps, 'every sample recorded');
  t.ok(Number(m![3]) >= 1, `retries counted (${m![3]})`);
  const parsed = readResultsFile(path.join(out, (await readdir(out))[0]!));
  t.ok(parsed.cells.every((c) => c.histogram.totalCount === reps), 'no cell lost or short of samples');
});

t.test('the edge refuses a cloud running another network, with exit 2', async (t) => {
  const cloud = await startCloud('lenet', ['--token', 'abc']);
  const out = await mkdtemp(path.join(tmpdir(), 'dnn-edge-fp-'));
  // three edges refused, side by side (one cloud serves any number of edges)
  const [wrongSeed, noToken, badCut] = await Promise.all([
    runBin('dnn-edge', ['127.0.0.1', 'lenet', '--port', String(cloud.port), '--out', out, '--seed', '2', '--token', 'abc', ...PLAIN]),
    runBin('dnn-edge', ['127.0.0.1', 'lenet', '--port', String(cloud.port), '--out', out, ...PLAIN]),
    runBin('dnn-edge', ['127.0.0.1', 'lenet', '--port', String(cloud.port), '--out', out, '--token', 'abc', '--cuts', 'dense_1,bogus', ...PLAIN]),
  ]);
  t.equal(wrongSeed.exitCode, 2);
  t.match(String(wrongSeed.stderr), /dnn-edge: the cloud refused this edge: edge runs lenet .* but this cloud serves lenet .*same network, --seed/);
  t.equal(noToken.exitCode, 2);
  t.match(String(noToken.stderr), /requires a token/);
  t.equal(badCut.exitCode, 2);
  t.match(String(badCut.stderr), /--cuts: bogus is not a partition point of lenet; `dnn-cut lenet` lists them/);
  await stopCloud(cloud);
  t.same(await readdir(out), [], 'no results file for a refused run');
});

t.test('a cloud that never comes: clear message after --give-up', async (t) => {
  const port = await freePort();
  const out = await mkdtemp(path.join(tmpdir(), 'dnn-edge-away-'));
  const r = await runBin('dnn-edge', ['127.0.0.1', 'lenet', '--port', String(port), '--out', out, '--give-up', '2s', ...PLAIN]);
  t.equal(r.exitCode, 1);
  t.match(String(r.stderr), /stayed unreachable for 2 s .*start dnn-cloud there or raise --give-up/);
});

import t from 'tap';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ROOT, runBin } from '../helpers/cli.js';
import { NEEDS_ROOT } from '../helpers/root.js';
import { resultsOf } from '../helpers/results.js';
import { readResultsFile } from '../../src/results/log-reader.js';
import { cellKey } from '../../src/results/tags.js';
import { ownerOfName, interfacesWithOurQdisc } from '../../src/conditions/cleanup.js';
import { leftoversOf, recordedGroups } from '../helpers/leftovers.js';
import { readProcStat } from '../../src/conditions/proc.js';

// no reference re-measurements: these tests count the grid's cells, not drift checks
const NO_STRESS = ['--edge-mem', '0', '--cloud-cpu', '0', '--cloud-mem', '0', '--reference-every', '0'];


/** Waits until the run's results file holds at least `cells` complete cells. */
async function waitForCells(dir: string, cells: number, timeoutMs = 120_000): Promise<string> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const files = existsSync(dir) ? (await readdir(dir)).filter((f) => f.endsWith('.hdr')) : [];
    if (files.length && (await readFile(path.join(dir, files[0]!), 'utf8')).split('\nTag=').length - 1 >= cells * 4) return path.join(dir, files[0]!);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${cells} cells in ${dir} after ${timeoutMs} ms`);
}

t.test('lab sweep of lenet over 2 rates x 2 edge-CPU levels: every cell, every sample, nothing left behind', { skip: NEEDS_ROOT }, async (t) => {
  const out = await mkdtemp(path.join(tmpdir(), 'dnn-lab-'));
  const r = await runBin('dnn-edge', ['lab', 'lenet', '--net', '50,10', '--edge-cpu', '0,100', ...NO_STRESS, '--reps', '3', '--out', out], { timeout: 300_000 });
  t.equal(r.exitCode, 0, String(r.stderr));
  const { parsed } = await resultsOf(out);
  const cuts = parsed.meta!.cuts.map((c) => c.layer);
  const cells = new Map<string, number>();
  for (const c of parsed.cells) cells.set(cellKey(c.tag.condition, c.tag.cut), (cells.get(cellKey(c.tag.condition, c.tag.cut)) ?? 0) + 1);
  t.equal(cells.size, 4 * cuts.length, 'every (condition, point) cell');
  t.ok([...cells.values()].every((n) => n === 4), 'four metrics per cell, no duplicate');
  t.ok(parsed.cells.every((c) => c.histogram.totalCount === 3), 'the asked samples in every histogram');
  const nets = new Set(parsed.cells.map((c) => c.tag.condition.net));
  t.same([...nets].sort(), [10, 50]);
  t.equal(parsed.meta!.conditions!.lab, true);
  t.match(parsed.meta!.conditions!.devices, { edge: { cpuset: /\d/ }, cloud: { cpuset: /\d/ } }, "each end's CPU set is in the metadata");
  const edgePid = Number(/dnn-(\w+)-/.exec(String(r.stderr))?.[1] ? parseInt(/namespace dnn-(\w+)-/.exec(String(r.stderr))![1]!, 36) : NaN);
  t.ok(Number.isFinite(edgePid), 'lab namespace named after the run');
  t.same(leftoversOf(edgePid), [], 'no namespace, veth or state of the run remains');
  t.same(interfacesWithOurQdisc().filter((i) => ownerOfName(i) === edgePid), [], 'no qdisc of ours remains');
});

t.test('after a SIGKILL, the next run removes the namespace, veth, qdisc and stressors left behind', { skip: NEEDS_ROOT }, async (t) => {
  const out = await mkdtemp(path.join(tmpdir(), 'dnn-lab-kill-'));
  const victim = execa(path.join(ROOT, 'bin/dnn-edge'), ['lab', 'lenet', '--net', '10', '--edge-cpu', '50', '--edge-mem', '0', '--cloud-cpu', '50', '--cloud-mem', '0', '--reps', '50', '--out', out], {
    reject: false,
    env: { NODE_OPTIONS: '' },
    stdin: 'ignore',
  });
  // a condition's cells are written when all its samples are in (points are interleaved), by which
  // time its stress is over: wait for the run's stressors to be recorded instead
  const pid = victim.pid!;
  for (let i = 0; i < 1200 && recordedGroups(pid).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
  const groups = recordedGroups(pid);
  t.ok(groups.length >= 2, `the run recorded its lab cloud and stressors (${groups.join(', ')})`);
  t.ok(leftoversOf(pid).length > 0, 'the run has a namespace and veth while it runs');
  victim.kill('SIGKILL');
  await victim;
  t.ok(leftoversOf(pid).some((n) => n.startsWith('dnn-')), 'a SIGKILL leaves the namespace behind');
  t.ok(leftoversOf(pid).some((n) => n.startsWith('cgroup dnn-')), 'and the cgroups of its two devices');

  // Another test file's run (tap runs two at once) sweeps dead runs' leftovers at its start too, so
  // the next run can say it removed them only when they were still there just before it started.
  const leftBehind = leftoversOf(pid);
  const next = await runBin('dnn-edge', ['lab', 'lenet', '--cuts', '0', '--net', '50', '--edge-cpu', '0', ...NO_STRESS, '--reps', '1', '--out', out], { timeout: 300_000 });
  t.equal(next.exitCode, 0, String(next.stderr));
  if (leftBehind.length > 0 && /removed what a killed run left: /.test(String(next.stderr)) === false) t.comment(`left behind before the next run: ${leftBehind.join(', ')} (swept by another run first?)`);
  t.ok(leftBehind.length === 0 || /removed what a killed run left: /.test(String(next.stderr)) || leftoversOf(pid).length === 0, 'the next run (or a concurrent one) removed what the killed run left');
  t.same(leftoversOf(pid), [], 'namespace, veth, cgroups and state file of the killed run are gone');
  t.same(interfacesWithOurQdisc().filter((i) => ownerOfName(i) === pid), [], 'its qdisc is gone');
  const alive = groups.filter((g) => {
    const s = readProcStat(g);
    return s !== null && s.state !== 'Z';
  });
  t.same(alive, [], 'its lab cloud and every stressor it started are gone');
});

t.test('Ctrl-C and SIGTERM: the run ends at once and puts everything back, cloud stressors included', { skip: NEEDS_ROOT }, async (t) => {
  // the two runs side by side: each lab is named after its own edge process, so they cannot meet
  await Promise.all((['SIGINT', 'SIGTERM'] as const).map(async (signal) => {
    const out = await mkdtemp(path.join(tmpdir(), 'dnn-lab-signal-'));
    // two conditions, both stressed: the first (50 Mbit/s, ~1 s) writes its cells, the signal lands in the second (~5 s)
    const run = execa(path.join(ROOT, 'bin/dnn-edge'), ['lab', 'lenet', '--net', '50,10', '--edge-cpu', '50', '--edge-mem', '0', '--cloud-cpu', '50', '--cloud-mem', '0', '--reps', '20', '--out', out], {
      reject: false,
      env: { NODE_OPTIONS: '' },
      stdin: 'ignore',
    });
    const file = await waitForCells(out, 2);
    const pid = run.pid!;
    const groups = recordedGroups(pid);
    run.kill(signal);
    const r = await run;
    t.ok(r.signal === signal || r.exitCode === (signal === 'SIGINT' ? 130 : 143), `${signal}: ends by the signal (${r.signal ?? r.exitCode})`);
    t.match(String(r.stderr), new RegExp(`${signal}: stopping; every completed cell is saved`));
    // the signal lands mid-sample: the run must die, not retry it against a lab already removed
    t.notMatch(String(r.stderr).split('stopping;')[1] ?? '', /reconnecting|waiting for the cloud/, `${signal}: no retry after the lab is gone`);
    t.same(leftoversOf(pid), [], `${signal}: namespace, veth and state file removed`);
    const alive = groups.filter((g) => {
      const st = readProcStat(g);
      return st !== null && st.state !== 'Z';
    });
    t.same(alive, [], `${signal}: lab cloud and every stressor (edge and cloud) ended`);
    t.ok(readResultsFile(file).cells.length >= 8, `${signal}: the cells measured before are kept`);
  }));
});

t.test('resume after a kill completes the grid with no duplicate or missing sample', { skip: NEEDS_ROOT }, async (t) => {
  const out = await mkdtemp(path.join(tmpdir(), 'dnn-lab-resume-'));
  const args = ['lab', 'lenet', '--net', '50,10', '--edge-cpu', '0', ...NO_STRESS, '--reps', '10', '--out', out];
  const first = execa(path.join(ROOT, 'bin/dnn-edge'), args, { reject: false, env: { NODE_OPTIONS: '' }, stdin: 'ignore' });
  const file = await waitForCells(out, 5);
  first.kill('SIGKILL');
  await first;
  const before = readResultsFile(file).cells.length / 4;
  t.ok(before >= 5 && before < 24, `killed part-way (${before} of 24 cells)`);
  const second = await runBin('dnn-edge', [...args, '--resume', file], { timeout: 300_000 });
  t.equal(second.exitCode, 0, String(second.stderr));
  const parsed = readResultsFile(file);
  const keys = parsed.cells.map((c) => `${cellKey(c.tag.condition, c.tag.cut)};${c.tag.metric}`);
  t.equal(new Set(keys).size, keys.length, 'no duplicate histogram');
  t.equal(keys.length, 24 * 4, 'every cell of the grid');
  t.ok(parsed.cells.every((c) => c.histogram.totalCount === 10), 'every histogram holds exactly the asked samples');
  t.match(String(second.stderr), new RegExp(`resuming: ${before} of 24 cells already measured`));
});

import t from 'tap';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
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
import { buildReport } from '../../src/analysis/build-report.js';
import { loadResultFiles } from '../../src/analysis/load-results.js';
import { fileURLToPath } from 'node:url';

/** A stored three-tier sweep of lenet (dnet 20 and 2, net 5; tiers.test reads it too): the oracle's profile. */
const PROFILE = fileURLToPath(new URL('../../../docs/data/runs/tiers/lenet-20261204T231326Z.hdr', import.meta.url));

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

/**
 * Three tiers (issue 23): device (this run), edge tier (dnn-relay) and cloud in namespaces of their
 * own, both links shaped. lenet's three points (input, one inner, output): its 6 configurations,
 * the tier-unused ones included. One lab start-up: ~10 s.
 */
t.test('lab --tiers 3: every configuration, six metrics a cell, cut2 and dnet tags, nothing left behind', { skip: NEEDS_ROOT }, async (t) => {
  const out = await mkdtemp(path.join(tmpdir(), 'dnn-lab-tiers-'));
  const r = await runBin('dnn-edge', ['lab', 'lenet', '--tiers', '3', '--device-net', '50', '--net', '10', '--cuts', 'max_pooling2d_2', '--reps', '2', '--out', out], { timeout: 300_000 });
  t.equal(r.exitCode, 0, String(r.stderr));
  const { parsed } = await resultsOf(out);
  t.match(parsed.meta!.tiers, { count: 3, configs: 6 });
  t.same(parsed.meta!.plan!.tiers!.configs.length, 6);
  const cells = new Map<string, string[]>();
  for (const c of parsed.cells) {
    const key = `${c.tag.cut}|${c.tag.cut2}`;
    cells.set(key, [...(cells.get(key) ?? []), c.tag.metric]);
  }
  const input = parsed.meta!.cuts[0]!.layer;
  const output = parsed.meta!.cuts.at(-1)!.layer;
  t.same([...cells.keys()].sort(), parsed.meta!.plan!.tiers!.configs.slice().sort(), 'every configuration measured');
  t.ok([...cells.values()].every((m) => m.join() === 'device,device_transfer,edge,transfer,cloud,total'), 'six metrics per cell, in order');
  t.ok(cells.has(`${output}|${output}`) && cells.has(`${input}|${input}`) && cells.has(`${input}|${output}`), 'device-only, cloud-only and edge-only among them');
  t.ok(parsed.cells.every((c) => c.tag.condition.dnet === 50 && c.tag.condition.net === 10 && c.histogram.totalCount === 2), 'both links in the condition, the asked samples');
  const deviceOnly = parsed.cells.find((c) => c.tag.cut === output && c.tag.metric === 'device_transfer')!;
  t.equal(deviceOnly.histogram.maxValue, 0, 'device-only: nothing crosses the device link');
  const middle = parsed.cells.find((c) => c.tag.cut === input && c.tag.cut2 === output && c.tag.metric === 'edge')!;
  t.ok(middle.histogram.getValueAtPercentile(50) > 0, 'edge-only: the edge tier computes');
  t.match(String(r.stdout), /best configuration \(x\|y\) per condition/);
  const pid = parseInt(/namespace dnn-(\w+)-/.exec(String(r.stderr))![1]!, 36);
  t.same(leftoversOf(pid), [], 'no namespace, veth, cgroup or state of the run remains');
  t.same(interfacesWithOurQdisc().filter((i) => ownerOfName(i) === pid), [], 'no qdisc of ours remains');
});

/**
 * Three tiers under a trace (issue 23): both links replayed from one tag trace (the device link
 * drops from 20 to 1 Mbit/s at 1 s, the edge->cloud link stays at 5), cloud-only, device-only and
 * the oracle (fitted on a stored three-tier sweep of lenet) interleaved in slots of 1 s: 2 s of
 * trace each, ~6 s of requests (static:auto and static:all are resolved in tier-plan.test, without a lab).
 */
t.test('lab --tiers 3 --trace: both links replayed, static configurations interleaved, request lines with both cuts', { skip: NEEDS_ROOT }, async (t) => {
  const out = await mkdtemp(path.join(tmpdir(), 'dnn-lab-tier-trace-'));
  const trace = path.join(out, 'drop.trace');
  await writeFile(trace, 't=0;dnet=20;net=5\nt=1;dnet=1\n');
  const r = await runBin('dnn-edge', ['lab', 'lenet', '--tiers', '3', '--trace', trace, '--policies', 'static:conv2d_1_input|conv2d_1_input,static:activation_4|activation_4,oracle', '--profile', PROFILE, '--policy-slot', '1', '--cuts', 'max_pooling2d_2', '--out', out], { timeout: 300_000 });
  t.equal(r.exitCode, 0, String(r.stderr));
  const { parsed, file } = await resultsOf(out);
  t.match(parsed.meta!.tiers, { count: 3, configs: 6 }, 'the configurations the statics were chosen among');
  t.match(parsed.meta!.conditions!.adaptive, { file: trace, policy_slot_s: 1 });
  const input = parsed.meta!.cuts[0]!.layer;
  const output = parsed.meta!.cuts.at(-1)!.layer;
  t.same(parsed.policies.map((p) => p.policy).sort(), ['oracle', `static:${input}|${input}`, `static:${output}|${output}`].sort(), 'cloud-only, device-only and the oracle');
  const cloudOnly = parsed.policies.find((p) => p.policy === `static:${input}|${input}`)!;
  const reqs = cloudOnly.requests as { t_ms: number; cut: string; cut2: string; device_rate_mbit: number; rate_mbit: number; device_transfer_ms: number; total_ms: number; slot: number }[];
  t.ok(reqs.length > 10 && reqs.every((q) => q.cut === input && q.cut2 === input && q.rate_mbit === 5), 'both cuts and the edge link on every line');
  t.same([...new Set(reqs.map((q) => q.slot))].sort(), [0, 1], 'one turn per slot');
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const fast = median(reqs.filter((q) => q.device_rate_mbit === 20).map((q) => q.device_transfer_ms));
  const slow = median(reqs.filter((q) => q.device_rate_mbit === 1).map((q) => q.device_transfer_ms));
  // lenet's input (28x28 floats, 3.1 kB) takes ~25 ms at 1 Mbit/s, ~1.3 ms at 20
  t.ok(slow > 3 * fast && slow > 10, `the device link follows the trace: device_transfer ${fast} ms at 20 Mbit/s, ${slow} ms at 1`);
  const links = new Set(cloudOnly.applied.map((a) => a['link']));
  t.same([...links].sort(), ['device', 'edge'], 'trace steps applied on both links');
  t.ok(cloudOnly.applied.every((a) => a['error'] === undefined), 'every step applied on our qdisc');
  const report = buildReport(loadResultFiles([file]).networks, { metric: 'p50', minGain: 0.05 });
  const e = report.adaptive[0]!;
  t.equal(e.three_tier, true);
  t.equal(e.hindsight_statics, 2);
  const oracle = e.policies.find((p) => p.policy === 'oracle')!;
  t.equal(oracle.oracle_agreement, 1, "the oracle's requests are its choices");
  t.ok(reqs.every((q) => typeof (q as { oracle_cut?: string }).oracle_cut === 'string' && (q as { oracle_cut?: string }).oracle_cut!.includes('|')), "every request line has the oracle's configuration");
  t.ok(parsed.policies.find((p) => p.policy === 'oracle')!.requests.length > 10, 'the oracle ran');
  t.ok(e.hindsight_choices.length >= 1 && e.hindsight_choices.every((c) => c.policy.startsWith('static:')), 'the best configuration per window');
  const pid = parseInt(/namespace dnn-(\w+)-/.exec(String(r.stderr))![1]!, 36);
  t.same(leftoversOf(pid), [], 'no namespace, veth, cgroup or state of the run remains');
  t.same(interfacesWithOurQdisc().filter((i) => ownerOfName(i) === pid), [], 'no qdisc of ours remains');
});

/**
 * Ctrl-C (SIGINT). SIGTERM and SIGHUP take the same path (src/conditions/cleanup/signals.ts):
 * conditions/cleanup.test.ts ends a run holding conditions with each of SIGTERM and SIGINT, and
 * lab-edges.test.ts ends a whole lab (two edges) with SIGTERM, message included.
 */
t.test('Ctrl-C: the run ends at once and puts everything back, cloud stressors included', { skip: NEEDS_ROOT }, async (t) => {
  const out = await mkdtemp(path.join(tmpdir(), 'dnn-lab-signal-'));
  // two conditions, both stressed (a light 10 %: any level starts a stressor group): the first
  // (50 Mbit/s, ~1 s) writes its cells, the signal lands in the second (~5 s)
  const run = execa(path.join(ROOT, 'bin/dnn-edge'), ['lab', 'lenet', '--net', '50,10', '--edge-cpu', '10', '--edge-mem', '0', '--cloud-cpu', '10', '--cloud-mem', '0', '--reps', '20', '--out', out], {
    reject: false,
    env: { NODE_OPTIONS: '' },
    stdin: 'ignore',
  });
  const file = await waitForCells(out, 2);
  const pid = run.pid!;
  // the second condition's stressors are running: the lab's cloud, its cloud stressor, the edge stressor
  for (let i = 0; i < 1200 && recordedGroups(pid).length < 3; i++) await new Promise((r) => setTimeout(r, 50));
  const groups = recordedGroups(pid);
  t.ok(groups.length >= 3, `the lab's cloud and both ends' stressors are running (${groups.join(', ')})`);
  run.kill('SIGINT');
  const r = await run;
  t.ok(r.signal === 'SIGINT' || r.exitCode === 130, `ends by the signal (${r.signal ?? r.exitCode})`);
  t.match(String(r.stderr), /SIGINT: stopping; every completed cell is saved/);
  // the signal lands mid-sample: the run must die, not retry it against a lab already removed
  t.notMatch(String(r.stderr).split('stopping;')[1] ?? '', /reconnecting|waiting for the cloud/, 'no retry after the lab is gone');
  t.same(leftoversOf(pid), [], 'namespace, veth and state file removed');
  const alive = groups.filter((g) => {
    const st = readProcStat(g);
    return st !== null && st.state !== 'Z';
  });
  t.same(alive, [], 'lab cloud and every stressor (edge and cloud) ended');
  t.ok(readResultsFile(file).cells.length >= 8, 'the cells measured before are kept');
});

/**
 * One run killed with SIGKILL part-way, then its resume: what the kill left (namespace, veth,
 * cgroups, qdisc, the lab's cloud, the stressors of both ends) is removed by the next run, and the
 * resume completes the grid with no duplicate or missing sample. (Two claims on one pair of runs:
 * each lab start costs ~5 s of CPU; the sweep itself is tested by the first test above.)
 */
t.test('after a SIGKILL part-way, the resume removes what the run left behind and completes the grid with no duplicate or missing sample', { skip: NEEDS_ROOT }, async (t) => {
  const out = await mkdtemp(path.join(tmpdir(), 'dnn-lab-kill-'));
  // both ends stressed (a light 10 %: any level starts a stressor group), so that the kill leaves stressors behind
  const args = ['lab', 'lenet', '--net', '50,10', '--edge-cpu', '10', '--edge-mem', '0', '--cloud-cpu', '10', '--cloud-mem', '0', '--reference-every', '0', '--reps', '10', '--out', out];
  const victim = execa(path.join(ROOT, 'bin/dnn-edge'), args, { reject: false, env: { NODE_OPTIONS: '' }, stdin: 'ignore' });
  const pid = victim.pid!;
  // a condition's cells are written when all its samples are in (points are interleaved), by which
  // time its edge stress is over: after the first condition's cells, wait for the second's stressors
  // (the lab's cloud, its cloud stressor and the edge stressor)
  const file = await waitForCells(out, 5);
  for (let i = 0; i < 1200 && recordedGroups(pid).length < 3; i++) await new Promise((r) => setTimeout(r, 50));
  const groups = recordedGroups(pid);
  t.ok(groups.length >= 3, `the run recorded its lab cloud and the stressors of both ends (${groups.join(', ')})`);
  t.ok(leftoversOf(pid).length > 0, 'the run has a namespace and veth while it runs');
  victim.kill('SIGKILL');
  await victim;
  t.ok(leftoversOf(pid).some((n) => n.startsWith('dnn-')), 'a SIGKILL leaves the namespace behind');
  t.ok(leftoversOf(pid).some((n) => n.startsWith('cgroup dnn-')), 'and the cgroups of its two devices');
  const before = readResultsFile(file).cells.length / 4;
  t.ok(before >= 5 && before < 24, `killed part-way (${before} of 24 cells)`);

  // Another test file's run (two run at once) sweeps dead runs' leftovers at its start too, so
  // the resume can say it removed them only when they were still there just before it started.
  const leftBehind = leftoversOf(pid);
  const second = await runBin('dnn-edge', [...args, '--resume', file], { timeout: 300_000 });
  t.equal(second.exitCode, 0, String(second.stderr));
  if (leftBehind.length > 0 && /removed what a killed run left: /.test(String(second.stderr)) === false) t.comment(`left behind before the next run: ${leftBehind.join(', ')} (swept by another run first?)`);
  t.ok(leftBehind.length === 0 || /removed what a killed run left: /.test(String(second.stderr)) || leftoversOf(pid).length === 0, 'the next run (or a concurrent one) removed what the killed run left');
  t.same(leftoversOf(pid), [], 'namespace, veth, cgroups and state file of the killed run are gone');
  t.same(interfacesWithOurQdisc().filter((i) => ownerOfName(i) === pid), [], 'its qdisc is gone');
  const alive = groups.filter((g) => {
    const s = readProcStat(g);
    return s !== null && s.state !== 'Z';
  });
  t.same(alive, [], 'its lab cloud and every stressor it started are gone');

  const parsed = readResultsFile(file);
  const keys = parsed.cells.map((c) => `${cellKey(c.tag.condition, c.tag.cut)};${c.tag.metric}`);
  t.equal(new Set(keys).size, keys.length, 'no duplicate histogram');
  t.equal(keys.length, 24 * 4, 'every cell of the grid');
  t.ok(parsed.cells.every((c) => c.histogram.totalCount === 10), 'every histogram holds exactly the asked samples');
  t.match(String(second.stderr), new RegExp(`resuming: ${before} of 24 cells already measured`));
});

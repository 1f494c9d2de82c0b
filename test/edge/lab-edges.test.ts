import t, { type Test } from 'tap';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ROOT, runBin } from '../helpers/cli.js';
import { NEEDS_ROOT } from '../helpers/root.js';
import { resultsOf } from '../helpers/results.js';
import { cellKey } from '../../src/results/tags.js';
import { interfacesWithOurQdisc, ownerOfName } from '../../src/conditions/cleanup.js';
import { groupsRecordedBy, leftoversOf, recordedGroups } from '../helpers/leftovers.js';
import { readProcStat } from '../../src/conditions/proc.js';

/** lab --edges N: N edge devices (own namespace, veth, cgroup) against one cloud, one results file. */

const NO_CLOUD_STRESS = ['--edge-mem', '0', '--cloud-cpu', '0', '--cloud-mem', '0', '--reference-every', '0'];

const alive = (pids: number[]) =>
  pids.filter((p) => {
    const s = readProcStat(p);
    return s !== null && s.state !== 'Z';
  });

/** The lab's pid, from the namespace it named after itself (dnn-<pid36>-<n>). */
function labPid(stderr: string): number {
  const m = /namespace (dnn-\w+-\w+)/.exec(stderr);
  return m ? ownerOfName(m[1]!)! : NaN;
}

/** A whole run: both edges measure every cell into the one file, the cloud serves both, nothing is left. */
async function wholeRun(t: Test): Promise<void> {
  const out = await mkdtemp(path.join(tmpdir(), 'dnn-lab-edges-'));
  // two cloud stress levels: edge 0 holds the cloud's stress for both edges, and edge 1's RESULTs must show it
  const args = ['--edge-mem', '0', '--cloud-cpu', '0,50', '--cloud-mem', '0', '--reference-every', '0'];
  const r = await runBin('dnn-edge', ['lab', 'lenet', '--edges', '2', '--cuts', '0,3', '--net', '50', '--edge-cpu', '0', ...args, '--reps', '3', '--out', out], { timeout: 120_000 });
  t.equal(r.exitCode, 0, String(r.stderr));
  const { parsed } = await resultsOf(out);
  t.equal(parsed.meta!.edges, 2, 'the metadata says two edges');
  for (const edge of [0, 1]) {
    const mine = parsed.cells.filter((c) => c.tag.edge === edge);
    t.equal(new Set(mine.map((c) => cellKey(c.tag.condition, c.tag.cut))).size, 4, `edge ${edge}: both points under both cloud stress levels`);
    t.equal(mine.length, 4 * 4, `edge ${edge}: four metrics per cell, no duplicate`);
    t.ok(mine.every((c) => c.histogram.totalCount === 3), `edge ${edge}: the asked samples in every histogram`);
  }
  t.equal(parsed.cells.filter((c) => c.tag.edge === undefined).length, 0, 'every cell says its edge');
  const hello = /the cloud's log shows HELLO from (.*)/.exec(String(r.stderr))?.[1]?.split(', ') ?? [];
  t.equal(hello.length, 2, `the cloud served two edges from two addresses (${hello.join(', ')})`);
  t.ok(hello.every((a) => /^198\.1[89]\./.test(a)), 'both in 198.18.0.0/15');
  const pid = labPid(String(r.stderr));
  t.ok(Number.isFinite(pid), 'lab namespace named after the run');
  t.same(leftoversOf(pid), [], 'no namespace, veth, cgroup or state file of the run (its edges included) remains');
  t.same(interfacesWithOurQdisc().filter((i) => ownerOfName(i) === pid), [], 'no qdisc of ours remains');
}

/** A run killed with SIGTERM mid-run: every edge, stressor, namespace and cgroup is removed. */
async function killedRun(t: Test): Promise<void> {
  const out = await mkdtemp(path.join(tmpdir(), 'dnn-lab-edges-term-'));
  const run = execa(path.join(ROOT, 'bin/dnn-edge'), ['lab', 'lenet', '--edges', '2', '--net', '10', '--edge-cpu', '50', ...NO_CLOUD_STRESS, '--reps', '50', '--out', out], {
    reject: false,
    env: { NODE_OPTIONS: '' },
    stdin: 'ignore',
  });
  const pid = run.pid!;
  // the lab records its cloud, edge 1 and its own stressors; edge 1 records its own: wait until it stresses
  const edge1Stress = () => recordedGroups(pid).length > groupsRecordedBy(pid).length;
  for (let i = 0; i < 1200 && !edge1Stress(); i++) await new Promise((r) => setTimeout(r, 50));
  const groups = recordedGroups(pid);
  t.ok(edge1Stress(), `edge 1 recorded its stressors (every group: ${groups.join(', ')})`);
  t.ok(leftoversOf(pid).filter((n) => !n.startsWith('cgroup') && !n.startsWith('state')).length >= 2, 'two namespaces (the cloud\'s, edge 1\'s) while it runs');
  run.kill('SIGTERM');
  const r = await run;
  t.ok(r.signal === 'SIGTERM' || r.exitCode === 143, `ends by the signal (${r.signal ?? r.exitCode})`);
  // lab.test.ts ends a one-edge lab with Ctrl-C; SIGTERM takes the same path, and says so too
  t.match(String(r.stderr), /SIGTERM: stopping; every completed cell is saved, the lab is removed/, 'says it stops and removes the lab');
  t.same(leftoversOf(pid), [], 'namespaces, veths, cgroups and state file removed');
  t.same(interfacesWithOurQdisc().filter((i) => ownerOfName(i) === pid), [], 'no qdisc of ours remains');
  t.same(alive(groups), [], 'the cloud, edge 1 and every stressor of both edges ended');
}

/** The binary's own checks: --dry-run's edges, and N the edge CPU cannot hold refused (one line, exit 2) before anything starts. */
async function checks(t: Test): Promise<void> {
  const level = ['--net', '50', '--edge-cpu', '0', '--edge-mem', '0', '--cloud-cpu', '0', '--cloud-mem', '0'];
  const dry = await runBin('dnn-edge', ['lab', 'lenet', '--edges', '2', ...level, '--dry-run']);
  t.equal(dry.exitCode, 0, String(dry.stderr));
  t.match(String(dry.stdout), /lab: 2 edges against one cloud, .* each edge CPU \d+, 0\.5 cores of CPU time/, '--dry-run says how many edges and their devices');
  t.match(String(dry.stdout), /inferences: exhaustive [\d,]+ per edge \([\d,]+ recorded \+ [\d,]+ warm-up\), [\d,]+ for the 2 edges; no raced estimate: --race cannot be combined with --edges 2/, '--dry-run: the exhaustive estimate, per edge and in all; no raced one (racing is refused with several edges)');
  const r = await runBin('dnn-edge', ['lab', 'lenet', '--edges', '16', ...level]);
  t.equal(r.exitCode, 2, String(r.stderr));
  t.match(String(r.stderr), /^dnn-edge: --edges 16: the edges share CPU/);
  t.equal(String(r.stderr).trim().split('\n').length, 1, 'one line');
}

t.test('lab --edges 2: a whole run, a run killed with SIGTERM and the checks, side by side', { skip: NEEDS_ROOT }, async (t) => {
  // each lab is named after its own process, so the two cannot meet
  await Promise.all([wholeRun(t), killedRun(t), checks(t)]);
});

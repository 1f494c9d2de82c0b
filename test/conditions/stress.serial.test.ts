import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { processGroup } from '../../src/conditions/proc.js';
import { memAvailableBytes, protectFromOom, startStress, type StressorKind } from '../../src/conditions/stress.js';
import { NEEDS_ROOT } from '../helpers/root.js';

const cores = availableParallelism();

function oomAdj(pid: number | 'self'): number {
  return Number(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8'));
}

function groupsGone(pids: number[]): boolean {
  return pids.every((p) => processGroup(p).length === 0);
}

for (const kind of ['stress-ng', 'builtin'] as StressorKind[]) {
  t.test(`${kind}: CPU stress burns cores × P % and volunteers for the OOM killer`, { skip: NEEDS_ROOT }, async (t) => {
    const stress = await startStress({ cpuPct: 50, memPct: 0 }, { kind });
    t.teardown(stress.stop);
    t.equal(stress.kind, kind);
    const c0 = stress.cpuSeconds();
    const t0 = Date.now();
    await sleep(1000);
    const rate = (stress.cpuSeconds() - c0) / ((Date.now() - t0) / 1000);
    const expected = cores * 0.5;
    t.comment(`${kind} at 50 % on ${cores} cores: ${rate.toFixed(2)} CPU-seconds per second (expected ${expected}; load average ${loadavg()[0]!.toFixed(1)})`);
    // Generous below (other work on the machine takes its share), tight enough above that a 50 % stressor
    // can never pass for 100 % (the built-in one's duty cycle measured up to 1.32x of its share here).
    t.ok(rate >= 0.3 * expected && rate <= 1.4 * expected, `burn rate ${rate.toFixed(2)} within [${0.3 * expected}, ${1.4 * expected}]`);
    const procs = processGroup(stress.pids[0]!);
    t.ok(procs.length > 0);
    t.same(procs.map((p) => oomAdj(p.pid)), procs.map(() => 1000), 'every stressor process has oom_score_adj 1000');
    await stress.stop();
    t.ok(groupsGone(stress.pids), 'the stressor group is gone after stop()');
  });

  t.test(`${kind}: memory stress holds P % of MemAvailable and is the OOM killer's first choice`, { skip: NEEDS_ROOT }, async (t) => {
    const available = memAvailableBytes();
    const stress = await startStress({ cpuPct: 0, memPct: 1 }, { kind });
    t.teardown(stress.stop);
    t.ok(Math.abs(stress.memBytes - available / 100) < available / 1000, `target is 1 % of MemAvailable (${stress.memBytes} bytes)`);
    const rss = stress.rssBytes();
    t.comment(`${kind}: target ${stress.memBytes} bytes, resident ${rss} bytes`);
    t.ok(rss >= 0.9 * stress.memBytes, 'resident memory reached the target');
    const procs = processGroup(stress.pids[0]!);
    for (const p of procs) t.equal(oomAdj(p.pid), 1000, `${p.comm} (${p.pid}) volunteers for the OOM killer`);
    const holder = procs.reduce((a, b) => (a.rssPages >= b.rssPages ? a : b));
    const protectedSelf = protectFromOom();
    if (protectedSelf) t.equal(oomAdj('self'), -900, 'the benchmark protects itself');
    else t.comment('cannot lower oom_score_adj here (no CAP_SYS_RESOURCE); the stressors volunteering is what protects the benchmark');
    const score = (pid: number | 'self') => Number(readFileSync(`/proc/${pid}/oom_score`, 'utf8'));
    t.ok(score(holder.pid) > score('self'), `the OOM killer prefers the stressor (oom_score ${score(holder.pid)}) to the benchmark (${score('self')})`);
    await stress.stop();
    t.ok(groupsGone(stress.pids), 'the stressor group is gone after stop()');
  });
}

t.test('no stress, no process; bad levels are user errors', async (t) => {
  const none = await startStress({ cpuPct: 0, memPct: 0 });
  t.same([none.kind, none.pids], ['none', []]);
  await t.rejects(startStress({ cpuPct: 150, memPct: 0 }), { name: 'UserError', message: 'cpu stress must be between 0 and 100 %, got 150' });
});

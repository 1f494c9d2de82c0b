import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import {
  allowedCpus,
  cgroupDirs,
  cpuQuota,
  createCgroup,
  attachToCgroup,
  detectCgroups,
  formatCpuList,
  parseCpuList,
  removeCgroup,
  checkLimits,
  type CgroupLayout,
} from '../../src/conditions/cgroup.js';
import { cleanupLeftovers } from '../../src/conditions/cleanup.js';
import { readProcStat } from '../../src/conditions/proc.js';
import { makeDevice } from '../../src/conditions/device.js';
import { NEEDS_ROOT } from '../helpers/root.js';

const V1_MOUNTINFO = [
  '30 25 0:26 / /sys/fs/cgroup/cpu rw,relatime shared:9 - cgroup cgroup rw,cpu',
  '31 25 0:27 / /sys/fs/cgroup/cpuset rw,relatime shared:10 - cgroup cgroup rw,cpuset',
  '32 25 0:28 / /sys/fs/cgroup/memory rw,relatime shared:11 - cgroup cgroup rw,memory',
  '33 25 0:29 / /sys/fs/cgroup/unified rw,relatime shared:12 - cgroup2 cgroup2 rw',
].join('\n');

t.test('a CPU limit in cores becomes a quota per 10 ms period (longer only under the 1 ms minimum quota)', async (t) => {
  t.same(cpuQuota(0.25), { periodUs: 10_000, quotaUs: 2500 });
  t.same(cpuQuota(1.5), { periodUs: 10_000, quotaUs: 15_000 });
  t.same(cpuQuota(0.05), { periodUs: 20_000, quotaUs: 1000 });
});

t.test('CPU lists parse and print in the kernel format', async (t) => {
  t.same(parseCpuList('0-2,5'), [0, 1, 2, 5]);
  t.same(parseCpuList(' 3 '), [3]);
  t.equal(formatCpuList([5, 0, 1, 2]), '0-2,5');
  t.throws(() => parseCpuList('a'), /not a CPU list/);
  t.throws(() => parseCpuList('3-1'), /backwards/);
  t.throws(() => checkLimits('--edge', { cpuset: '0,7' }, [0, 1]), /CPU 7 is not available here \(available: 0-1\)/);
  t.throws(() => checkLimits('--edge', { cpuset: '1', cpus: 1.5 }, [0, 1]), /--edge-cpus 1.5: more cores than the 1 CPU it may run on/);
  t.doesNotThrow(() => checkLimits('--cloud', { cpuset: '1', cpus: 0.25 }, [0, 1]));
});

t.test('v1 is found from mountinfo, our own dnn-* cgroups skipped, so a lab cloud started by a confined edge makes a sibling', async (t) => {
  const r = detectCgroups({ mountinfo: V1_MOUNTINFO, procCgroup: '4:memory:/jobs/dnn-1a-0e\n3:cpuset:/\n1:cpu:/\n0::/' });
  t.same(r, {
    layout: {
      version: 1,
      parents: { cpu: '/sys/fs/cgroup/cpu/', cpuset: '/sys/fs/cgroup/cpuset/', memory: '/sys/fs/cgroup/memory/jobs' },
      mounts: { cpu: '/sys/fs/cgroup/cpu', cpuset: '/sys/fs/cgroup/cpuset', memory: '/sys/fs/cgroup/memory' },
    },
  });
});

t.test('v2: found when its root has the controllers, refused with the reason when not', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'dnn-cg2-'));
  const mountinfo = `40 25 0:30 / ${root} rw,relatime - cgroup2 cgroup2 rw`;
  writeFileSync(join(root, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
  t.same(detectCgroups({ mountinfo, procCgroup: '0::/user.slice\n' }), { layout: { version: 2, parent: root } });
  writeFileSync(join(root, 'cgroup.controllers'), '\n');
  const r = detectCgroups({ mountinfo, procCgroup: '0::/\n' });
  t.match(r, { problem: /lacks the cpu, cpuset, memory controllers/ });
});

t.test('v2 writes: controllers enabled for children, cpuset.cpus, cpu.max with a 10 ms period, memory.max', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'dnn-cg2-'));
  writeFileSync(join(root, 'cgroup.subtree_control'), 'cpu io\n');
  const layout: CgroupLayout = { version: 2, parent: root };
  const dirs = createCgroup(layout, 'dnn-1a-0e', { cpuset: '1', cpus: 0.25, memoryBytes: 512 * 2 ** 20 });
  t.same(dirs, [join(root, 'dnn-1a-0e')]);
  t.same(cgroupDirs(layout, 'dnn-1a-0e'), dirs);
  const f = (name: string) => readFileSync(join(dirs[0]!, name), 'utf8');
  t.equal(readFileSync(join(root, 'cgroup.subtree_control'), 'utf8'), '+cpuset +memory', 'only the missing controllers, in one write');
  t.equal(f('cpuset.cpus'), '1');
  t.equal(f('cpu.max'), '2500 10000');
  t.equal(f('cpu.weight'), '10000', 'the highest weight: other work gets what the device leaves');
  t.equal(f('memory.max'), String(512 * 2 ** 20));
  attachToCgroup(dirs, 4242);
  t.equal(f('cgroup.procs'), '4242');

  const free = createCgroup(layout, 'dnn-1a-1c', {});
  t.equal(readFileSync(join(free[0]!, 'cpu.max'), 'utf8'), 'max 10000', 'no quota, still the short period');
  t.equal(readFileSync(join(free[0]!, 'memory.max'), 'utf8'), 'max');
  t.notOk(existsSync(join(free[0]!, 'cpuset.cpus')), 'no CPU set: the parent\'s');
});

const found = detectCgroups();
const V1 = 'layout' in found && found.layout.version === 1 ? found.layout : null;

t.test('v1 for real: limits written, a process inside runs on the set, removal ends it and removes every directory', { skip: NEEDS_ROOT || (V1 ? false : 'no cgroup v1 hierarchy with cpu, cpuset and memory here') }, async (t) => {
  const layout = V1!;
  const cpu = allowedCpus()[0]!;
  // the owner (the pid in the name) lives until just before the sweep: other test files' runs sweep
  // leftovers of dead owners too, and one starting meanwhile would remove it before this test's sweep
  const owner = execa('sleep', ['60'], { reject: false });
  t.teardown(() => void owner.kill('SIGKILL')); // by the pid we started; a no-op once it has ended
  const name = `dnn-${owner.pid!.toString(36)}-t${process.pid.toString(36)}`;
  const dirs = createCgroup(layout, name, { cpuset: String(cpu), cpus: 0.5, memoryBytes: 256 * 2 ** 20 });
  t.teardown(() => removeCgroup(dirs));
  const [cpuDir, cpusetDir, memDir] = dirs as [string, string, string];
  t.equal(readFileSync(join(cpuDir, 'cpu.cfs_period_us'), 'utf8').trim(), '10000');
  t.equal(readFileSync(join(cpuDir, 'cpu.cfs_quota_us'), 'utf8').trim(), '5000');
  t.equal(readFileSync(join(cpuDir, 'cpu.shares'), 'utf8').trim(), '262144');
  t.equal(readFileSync(join(cpusetDir, 'cpuset.cpus'), 'utf8').trim(), String(cpu));
  t.equal(readFileSync(join(memDir, 'memory.limit_in_bytes'), 'utf8').trim(), String(256 * 2 ** 20));
  const sleeper = execa('sleep', ['60'], { reject: false });
  attachToCgroup(dirs, sleeper.pid!);
  t.match(readFileSync(`/proc/${sleeper.pid}/status`, 'utf8'), new RegExp(`Cpus_allowed_list:\\s+${cpu}\\n`), 'the process runs on the set only');
  t.match(readFileSync(`/proc/${sleeper.pid}/cgroup`, 'utf8'), new RegExp(`:cpu:.*/${name}\\n`));

  // a leftover: its owner (the pid in its name) is dead, so the next run's sweep removes it
  owner.kill('SIGKILL');
  await owner;
  const removed = cleanupLeftovers();
  t.ok(removed.some((l) => l.includes(name)), `the sweep removed it (${removed.join('; ')})`);
  await sleeper;
  t.ok(dirs.every((d) => !existsSync(d)), 'every controller directory is gone');
  t.equal(readProcStat(sleeper.pid!), null, 'the process inside was ended');
});

t.test('a cgroup another sweep removes while this one waits counts as gone, not as an error', async (t) => {
  // a directory rmdir cannot take yet (a file inside, as a busy cgroup): another process removes it after 200 ms
  const dir = mkdtempSync(join(tmpdir(), 'dnn-cg-race-'));
  writeFileSync(join(dir, 'busy'), '');
  const other = execa('sh', ['-c', `sleep 0.2 && rm -rf ${dir}`], { reject: false });
  const start = Date.now();
  t.equal(removeCgroup([dir], 5000), true, 'gone: removed, as far as the sweep is concerned');
  t.ok(Date.now() - start < 4000, `returned once it was gone (${Date.now() - start} ms), not at the deadline with ENOENT`);
  await other;
});

t.test('mkdir of a cgroup under a missing parent fails with the path in the message', async (t) => {
  const layout: CgroupLayout = { version: 2, parent: join(tmpdir(), 'dnn-no-such-dir-xyz') };
  mkdirSync(layout.parent, { recursive: true });
  t.throws(() => createCgroup(layout, 'x', {}), /cgroup.subtree_control/);
});

t.test('a fractional CPU time keeps the device\'s CPUs awake: an idle-priority spinner per CPU, outside the device, gone when the limit lifts or the device goes', { skip: NEEDS_ROOT || (V1 ? false : 'no cgroup v1 hierarchy with cpu, cpuset and memory here') }, async (t) => {
  const cpu = allowedCpus()[0]!;
  /** Every spinner loop on the machine (any owner, zombies too). */
  const loops = () =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('while :; do :; done');
        } catch {
          return false;
        }
      })
      .map(Number);
  const spinners = () =>
    loops()
      .filter((p) => readProcStat(p)?.state !== 'Z')
      .filter((p) => readProcStat(p)?.ppid === process.pid || readProcStat(readProcStat(p)?.ppid ?? 0)?.ppid === process.pid);
  // Waits by the clock, not by a count of polls: beside another test file (2 CPUs) a poll of /proc
  // takes longer, and a spinner (or its exit) can be seconds late. The limits are generous on purpose.
  const until = async (ok: () => boolean, ms: number) => {
    for (const end = Date.now() + ms; !ok() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
    if (!ok()) t.comment(`after ${ms} ms: this test's pid ${process.pid}; spinners anywhere (pid ppid state): ${everySpinner() || 'none'}`);
    return ok();
  };
  // what a failed wait saw, so that a failure says why
  const everySpinner = () => loops().map((p) => `${p} ${readProcStat(p)?.ppid} ${readProcStat(p)?.state}`).join(', ');
  const device = makeDevice('edge', { cpuset: String(cpu), cpus: 0.25 });
  t.teardown(() => device.release());
  await until(() => spinners().length > 0, 10_000);
  // the exec chain (setpriv, chrt, taskset, sh) takes a moment: wait until the pinning is in place
  const pinned = new RegExp(`Cpus_allowed_list:\\s+${cpu}\\n`);
  let status = '';
  await until(() => {
    const [pid] = spinners();
    status = pid === undefined ? '' : readFileSync(`/proc/${pid}/status`, 'utf8');
    return pinned.test(status);
  }, 10_000);
  const [pid] = spinners();
  t.ok(pid, 'a spinner runs while the device is throttled');
  t.match(status, pinned, 'pinned to the device\'s CPU');
  t.equal(readFileSync(`/proc/${pid}/sched`, 'utf8').match(/^policy\s+:\s+(\d+)/m)?.[1], '5', 'at SCHED_IDLE (policy 5)');
  t.notMatch(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), new RegExp(device.name), 'outside the device: it never eats its quota');
  device.setCpus(undefined);
  t.ok(await until(() => spinners().length === 0, 5_000), 'gone once the limit is lifted');
  device.setCpus(0.5);
  t.ok(await until(() => spinners().length > 0, 10_000), 'back under a new fractional limit');
  t.equal(spinners().length, 1, 'one spinner for the one CPU');
  device.release();
  t.ok(await until(() => spinners().length === 0, 5_000), 'gone with the device');
});

import { readFileSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { UserError } from '../errors.js';
import { registerChange, type Registration } from './cleanup.js';
import { CLOCK_TICKS_PER_SECOND, PAGE_SIZE, isRoot, processGroup, readProcStat } from './proc.js';
import { ownLimits, parseCpuList, type DeviceLimits } from './cgroup.js';

/**
 * CPU and memory stress, as the published tool applied it, on what this end may use:
 * CPU P % = one worker per CPU the end may run on (its CPU set, or fewer under a smaller CPU
 * quota), each busy P % of the time (stress-ng --cpu N --cpu-load P);
 * memory P % = allocate and hold P % of the end's memory limit, or of MemAvailable as it is when
 * the condition starts without one (stress-ng --vm 1 --vm-bytes N --vm-hang 0 --vm-keep --vm-populate: the kernel faults the pages in
 * at mmap, 2-3x faster than first touches, so a machine-sized memory level is in effect sooner).
 * Stressors start from this process, so they run inside its cgroup (the end's device).
 * Each stressor runs in its own process group, is recorded for cleanup, and is ended by killing
 * that group: never by name. It also gets a parent-death signal (setpriv --pdeathsig KILL), so it
 * dies with this process even on kill -9. Stressors volunteer to be the OOM killer's first victims.
 */
export type StressorKind = 'stress-ng' | 'builtin';
export type StressorChoice = 'auto' | StressorKind;
export const STRESSOR_CHOICES: readonly StressorChoice[] = ['auto', 'stress-ng', 'builtin'];

export interface StressLevels {
  cpuPct: number;
  memPct: number;
}

export interface RunningStress {
  /** Which stressor runs; 'none' when both levels are 0. */
  kind: StressorKind | 'none';
  /** Process-group leaders (one per stressed resource). */
  pids: number[];
  /** Bytes the memory stressor holds (its target), 0 without memory stress. */
  memBytes: number;
  /** CPU seconds used so far by every process of the stressors' groups. */
  cpuSeconds(): number;
  /** Resident bytes of the largest process of the memory stressor's group. */
  rssBytes(): number;
  /** Kills the stressors' process groups and waits until they are gone. Idempotent. */
  stop(): Promise<void>;
}

/** Stress that could not be put in effect (the stressor died, or never reached its level). */
export class StressError extends Error {}

/** Below this share of total memory available, memory counts as exhausted. */
const EXHAUSTED = 0.03;
/** A memory stressor whose size has not grown for this long holds what it can. */
const PLATEAU_MS = 2000;

const OOM_VICTIM = '1000';
const OOM_PROTECTED = -900;

/** Lowers this process's OOM score so that a stressor, not the benchmark, is killed under memory stress. */
export function protectFromOom(): boolean {
  if (!isRoot()) return false;
  try {
    writeFileSync('/proc/self/oom_score_adj', String(OOM_PROTECTED));
    return true;
  } catch {
    return false;
  }
}

export function memAvailableBytes(): number {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  if (!m) throw new Error('/proc/meminfo has no MemAvailable line');
  return Number(m[1]) * 1024;
}

let stressNgInstalled: boolean | undefined;

async function hasStressNg(): Promise<boolean> {
  if (stressNgInstalled === undefined) {
    const r = await execa('stress-ng', ['--version'], { reject: false });
    stressNgInstalled = r.exitCode === 0;
  }
  return stressNgInstalled;
}

export async function resolveStressor(choice: StressorChoice): Promise<StressorKind> {
  if (choice === 'builtin') return 'builtin';
  if (await hasStressNg()) return 'stress-ng';
  if (choice === 'stress-ng') throw new UserError('--stressor stress-ng: stress-ng is not installed; install it (apt-get install stress-ng) or use --stressor builtin');
  return 'builtin';
}

let setprivInstalled: boolean | undefined;

/** util-linux's setpriv sets the parent-death signal, then execs the stressor (the signal survives exec). */
async function hasSetpriv(): Promise<boolean> {
  if (setprivInstalled === undefined) {
    const r = await execa('setpriv', ['--help'], { reject: false });
    setprivInstalled = r.exitCode === 0 && String(r.stdout).includes('--pdeathsig');
    if (!setprivInstalled) process.stderr.write('note: setpriv (util-linux) with --pdeathsig is missing: stressors outlive a kill -9 of this process until the next run cleans up\n');
  }
  return setprivInstalled;
}

const BUILTIN = fileURLToPath(new URL('./builtin-stressor.js', import.meta.url));

/** What this end may use: CPU workers (one per CPU of its set, no more than its quota needs), cores of CPU time, memory. */
export interface StressBudget {
  workers: number;
  cores: number;
  memBytes: number;
}

/**
 * The budget of this end: the limits of its device when known (a lab cloud cannot read its cgroup
 * from inside its network namespace), else what its own cgroups and CPU affinity say.
 */
export function stressBudget(limits: DeviceLimits = {}): StressBudget {
  const own = ownLimits();
  const cpus = limits.cpuset !== undefined ? parseCpuList(limits.cpuset).length : own.cpus.length;
  const cores = Math.min(cpus, limits.cpus ?? own.cores);
  const memLimit = limits.memoryBytes ?? own.memoryBytes;
  const available = memAvailableBytes();
  return {
    workers: Math.max(1, Math.min(cpus, Math.ceil(cores - 1e-9))),
    cores,
    memBytes: memLimit === null ? available : Math.min(memLimit, available),
  };
}

export function stressCommand(kind: StressorKind, what: 'cpu' | 'mem', pct: number, bytes: number, workers: number): [string, string[]] {
  if (kind === 'builtin') {
    return [process.execPath, what === 'cpu' ? [BUILTIN, 'cpu', String(pct), String(workers)] : [BUILTIN, 'mem', String(bytes)]];
  }
  const args = what === 'cpu' ? ['--cpu', String(workers), '--cpu-load', String(pct)] : ['--vm', '1', '--vm-bytes', `${bytes}b`, '--vm-hang', '0', '--vm-keep', '--vm-populate'];
  // Volunteer for the OOM killer before exec, so every process stress-ng forks inherits it.
  return ['sh', ['-c', `echo ${OOM_VICTIM} > /proc/self/oom_score_adj; exec stress-ng "$@"`, 'sh', ...args, '--quiet']];
}

/** Prefixes `setpriv --pdeathsig KILL --`: the kernel kills the stressor when the thread that started it dies. */
export function withParentDeathSignal([file, args]: [string, string[]]): [string, string[]] {
  return ['setpriv', ['--pdeathsig', 'KILL', '--', file, ...args]];
}

interface Group {
  pid: number;
  reg: Registration;
  child: ResultPromise;
}

async function spawnGroup(kind: StressorKind, what: 'cpu' | 'mem', pct: number, bytes: number, workers: number): Promise<Group> {
  const command = stressCommand(kind, what, pct, bytes, workers);
  // Node starts children from its main thread, whose death is the process's: the signal fires on kill -9.
  const [file, args] = (await hasSetpriv()) ? withParentDeathSignal(command) : command;
  // Own process group (detached), so the group can be killed as a whole; unref'd, so a forgotten
  // stop() cannot keep the benchmark alive (the exit handler still kills the group).
  const child = execa(file, args, { detached: true, stdio: 'ignore', cleanup: false, reject: false });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${file}: ${String((await child).message)}`);
  child.unref();
  const startTime = readProcStat(pid)?.startTime ?? 0;
  const reg = registerChange({ kind: 'process-group', pid, startTime, what: `${kind} ${what} stressor` });
  return { pid, reg, child };
}

/** Sets oom_score_adj of every process of the group (children forked later inherit it). */
function volunteerForOom(pid: number): void {
  for (const p of processGroup(pid)) {
    try {
      if (readFileSync(`/proc/${p.pid}/oom_score_adj`, 'utf8').trim() !== OOM_VICTIM) writeFileSync(`/proc/${p.pid}/oom_score_adj`, OOM_VICTIM);
    } catch {
      // The process ended meanwhile.
    }
  }
}

function groupTicks(pid: number): number {
  return processGroup(pid).reduce((sum, p) => sum + p.cpuTicks, 0);
}

function groupMaxRss(pid: number): number {
  return Math.max(0, ...processGroup(pid).map((p) => p.rssPages)) * PAGE_SIZE;
}

async function stopGroups(groups: Group[]): Promise<void> {
  for (const g of groups) {
    g.reg.undo();
    g.child.ref(); // keep the event loop alive while we wait for it
  }
  await Promise.all(groups.map((g) => g.child));
  // Grandchildren (stress-ng's workers) are not our children: wait until the kernel has them gone.
  for (let i = 0; i < 100 && groups.some((g) => processGroup(g.pid).length > 0); i++) await sleep(20);
}

/**
 * Starts the stress of one condition and resolves once it is in effect: the CPU stressor burns
 * at least a tenth of its share of CPU over a 300 ms window, the memory stressor holds 90 % of its target.
 */
export async function startStress(levels: StressLevels, opts: { kind?: StressorChoice; readyTimeoutMs?: number; limits?: DeviceLimits } = {}): Promise<RunningStress> {
  for (const [flag, v] of [['cpu', levels.cpuPct], ['memory', levels.memPct]] as const) {
    if (!(v >= 0 && v <= 100)) throw new UserError(`${flag} stress must be between 0 and 100 %, got ${v}`);
  }
  if (levels.cpuPct === 0 && levels.memPct === 0) {
    return { kind: 'none', pids: [], memBytes: 0, cpuSeconds: () => 0, rssBytes: () => 0, stop: async () => {} };
  }
  const kind = await resolveStressor(opts.kind ?? 'auto');
  const budget = stressBudget(opts.limits);
  const memBytes = Math.floor((budget.memBytes * levels.memPct) / 100);
  const groups: Group[] = [];
  let cpu: Group | undefined;
  let mem: Group | undefined;
  try {
    if (levels.cpuPct > 0) groups.push((cpu = await spawnGroup(kind, 'cpu', levels.cpuPct, 0, budget.workers)));
    if (memBytes > 0) groups.push((mem = await spawnGroup(kind, 'mem', levels.memPct, memBytes, 1)));
    // allocation runs at about 1 GB/s on an idle machine; a busy one (or reclaim) can be 5x slower
    const timeoutMs = opts.readyTimeoutMs ?? 10_000 + memBytes / 2e5;
    await waitUntilInEffect(cpu, mem, (Math.min(budget.workers, budget.cores) * levels.cpuPct) / 100, memBytes, timeoutMs);
  } catch (e) {
    await stopGroups(groups);
    throw e;
  }
  let stopped: Promise<void> | undefined;
  return {
    kind,
    pids: groups.map((g) => g.pid),
    memBytes,
    cpuSeconds: () => groups.reduce((s, g) => s + groupTicks(g.pid), 0) / CLOCK_TICKS_PER_SECOND,
    rssBytes: () => (mem ? groupMaxRss(mem.pid) : 0),
    stop: () => (stopped ??= stopGroups(groups)),
  };
}

/** cpuCores: the CPU time (in cores) the CPU stressor should burn. */
async function waitUntilInEffect(cpu: Group | undefined, mem: Group | undefined, cpuCores: number, memBytes: number, timeoutMs: number): Promise<void> {
  const WINDOW_MS = 300;
  // A tenth of its share, not all of it: on a busy machine the stressor gets less than it asks for
  // (more so pinned to one end's CPUs), and the point here is only that it has started burning.
  const wantTicksPerMs = (cpuCores / 1000) * CLOCK_TICKS_PER_SECOND * 0.1;
  const samples: { t: number; ticks: number }[] = [];
  // Near 100 % the kernel (reclaim, the OOM killer restarting a worker) may cap what the stressor
  // holds below its target: once it stops growing, that is as much as the machine lets it hold.
  let plateau = { rss: 0, since: Date.now() };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const g of [cpu, mem]) if (g) volunteerForOom(g.pid);
    let cpuReady = cpu === undefined;
    if (cpu) {
      const now = { t: Date.now(), ticks: groupTicks(cpu.pid) };
      samples.push(now);
      const old = samples.find((s) => now.t - s.t >= WINDOW_MS);
      if (old) {
        const burnt = now.ticks - old.ticks;
        cpuReady = burnt >= 2 && burnt >= wantTicksPerMs * (now.t - old.t);
        samples.splice(0, samples.indexOf(old));
      }
    }
    const rss = mem ? groupMaxRss(mem.pid) : 0;
    if (rss > plateau.rss * 1.01) plateau = { rss, since: Date.now() };
    const plateaued = rss >= 0.5 * memBytes && Date.now() - plateau.since >= PLATEAU_MS;
    const memReady = mem === undefined || rss >= 0.9 * memBytes || plateaued || (rss >= 0.5 * memBytes && memAvailableBytes() < EXHAUSTED * totalmem());
    if (cpuReady && memReady) return;
    for (const g of [cpu, mem]) {
      if (g && processGroup(g.pid).length === 0) throw new StressError(`the ${g === cpu ? 'CPU' : 'memory'} stressor (pid ${g.pid}) ended before its stress was in effect`);
    }
    if (Date.now() > deadline) {
      throw new StressError(
        cpuReady
          ? `the memory stressor did not reach ${memBytes} resident bytes within ${timeoutMs} ms (has ${mem ? groupMaxRss(mem.pid) : 0})`
          : `the CPU stressor (${(cpuCores * 100).toFixed(0)} % of a core in all) did not start burning CPU within ${timeoutMs} ms`,
      );
    }
    await sleep(50);
  }
}

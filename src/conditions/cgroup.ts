import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';

/**
 * One end of the lab as a device of its own: a cgroup that limits the CPUs it may run on (cpuset),
 * its CPU time (a CFS quota in cores, fractional) and its memory. Both hierarchies are supported:
 *   v2 (current Debian, Ubuntu): cpuset.cpus, cpu.max, memory.max in one directory;
 *   v1 (this project's CI machine): cpuset.cpus/mems, cpu.cfs_period_us/cfs_quota_us,
 *      memory.limit_in_bytes, one directory per controller.
 * The enforcement period is 10 ms, not the kernel's 100 ms: a quarter core then throttles an
 * inference in 10 ms steps (measured: 4.0x slower) instead of 100 ms ones (4.3x).
 * Processes started inside the cgroup (stressors, tc) inherit it.
 */
export interface DeviceLimits {
  /** CPUs the end may run on, in the kernel's list format: "0", "1-3", "0,2" */
  cpuset?: string;
  /** CPU time in cores: 0.25 = a quarter of one core */
  cpus?: number;
  /** memory the end may use, bytes */
  memoryBytes?: number;
}

export type CgroupLayout =
  /** parent directories per controller (the process's own cgroups) */
  | { version: 1; parents: Record<Controller, string>; mounts: Record<Controller, string> }
  /** the hierarchy's root, where our cgroups go (v2 allows no processes in inner cgroups) */
  | { version: 2; parent: string };

export type Controller = 'cpu' | 'cpuset' | 'memory';
export const CONTROLLERS: readonly Controller[] = ['cpu', 'cpuset', 'memory'];

export const PERIOD_US = 10_000;
/**
 * The device's weight against the rest of the machine: the highest. The scheduler weighs a cgroup
 * as one task, so at the default weight a device shares its CPUs with every other busy process as
 * if it were one of them, and lab timings then follow the machine's load; at the highest weight
 * other work only gets what the device leaves. Its quota (cpus) still caps it.
 */
export const MAX_WEIGHT = { v1: 262_144, v2: 10_000 } as const;
/** The kernel refuses quotas under 1 ms. */
const MIN_QUOTA_US = 1000;

/** Period and quota (µs) for a CPU limit in cores: 10 ms periods, longer only when the quota would fall under 1 ms. */
export function cpuQuota(cpus: number): { periodUs: number; quotaUs: number } {
  const periodUs = Math.max(PERIOD_US, Math.ceil(MIN_QUOTA_US / cpus));
  return { periodUs, quotaUs: Math.max(MIN_QUOTA_US, Math.round(cpus * periodUs)) };
}

/** "0-2,5" -> [0, 1, 2, 5]; throws on anything else. */
export function parseCpuList(list: string): number[] {
  const out = new Set<number>();
  for (const part of list.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`'${list}' is not a CPU list like 0, 1-3 or 0,2`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new Error(`'${list}': range ${part} runs backwards`);
    for (let c = lo; c <= hi; c++) out.add(c);
  }
  return [...out].sort((a, b) => a - b);
}

/** [0, 1, 2, 5] -> "0-2,5" */
export function formatCpuList(cpus: number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** CPUs this process may run on (its affinity, which its cpuset bounds). */
export function ownCpus(status = readFileSync('/proc/self/status', 'utf8')): number[] {
  const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(status);
  return m ? parseCpuList(m[1]!) : [...Array(availableParallelism()).keys()];
}

/**
 * CPUs our cgroups may be given: those of the cgroup they are made in (not this process's own
 * set: a lab cloud starts inside its confined edge's cgroup), else this process's.
 */
export function allowedCpus(layout: CgroupLayout | null = cgroupLayoutOrNull()): number[] {
  try {
    if (layout?.version === 1) return parseCpuList(read(layout.parents.cpuset, 'cpuset.effective_cpus'));
    if (layout?.version === 2) return parseCpuList(read(layout.parent, 'cpuset.cpus.effective'));
  } catch {
    // unreadable: fall back to the affinity
  }
  return ownCpus();
}

interface Mount {
  dir: string;
  fstype: string;
  root: string;
  options: string[];
}

function mounts(mountinfo: string): Mount[] {
  // mountinfo(5): id parent major:minor root mountpoint options ... - fstype source superoptions
  return mountinfo
    .split('\n')
    .filter((l) => l.includes(' - cgroup'))
    .map((l) => {
      const [pre, post] = l.split(' - ');
      const f = pre!.split(' ');
      const g = post!.split(' ');
      return { root: f[3]!, dir: f[4]!.replace(/\\040/g, ' '), fstype: g[0]!, options: (g[2] ?? '').split(',') };
    });
}

/** The process's cgroup path per v1 controller, or under '' for v2 (from /proc/self/cgroup). */
function ownCgroups(procCgroup: string): Map<string, string> {
  const own = new Map<string, string>();
  for (const line of procCgroup.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    for (const c of m[1]!.split(',')) own.set(c, m[2]!);
  }
  return own;
}

/** A cgroup path as /proc/self/cgroup gives it, relative to what the mount shows (a container may see a subtree). */
function inMount(m: { root: string }, path: string): string {
  return m.root !== '/' && path.startsWith(m.root) ? path.slice(m.root.length) || '/' : path;
}

/** Our cgroups are siblings, not children, of the one we run in: a lab cloud started by a confined edge starts in the edge's. */
function withoutOurs(path: string): string {
  const parts = path.split('/').filter((p) => p.length > 0);
  while (parts.length > 0 && parts[parts.length - 1]!.startsWith('dnn-')) parts.pop();
  return `/${parts.join('/')}`;
}

/**
 * Where this machine lets us make cgroups with the cpu, cpuset and memory controllers, or a
 * one-line reason why not. v1 is preferred when it has all three (a v2 mount beside it, as on this
 * project's machines, then has no controllers).
 */
export function detectCgroups(
  src: { mountinfo?: string; procCgroup?: string } = {},
): { layout: CgroupLayout } | { problem: string } {
  let mountinfo: string;
  let procCgroup: string;
  try {
    mountinfo = src.mountinfo ?? readFileSync('/proc/self/mountinfo', 'utf8');
    procCgroup = src.procCgroup ?? readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return { problem: 'this system has no /proc/self/mountinfo or /proc/self/cgroup (not Linux?)' };
  }
  const all = mounts(mountinfo);
  const own = ownCgroups(procCgroup);
  const v1: Partial<Record<Controller, string>> = {};
  const v1Mounts: Partial<Record<Controller, string>> = {};
  for (const m of all.filter((m) => m.fstype === 'cgroup')) {
    for (const c of CONTROLLERS) {
      if (m.options.includes(c) && v1[c] === undefined) {
        v1[c] = join(m.dir, inMount(m, withoutOurs(own.get(c) ?? '/')));
        v1Mounts[c] = m.dir;
      }
    }
  }
  if (CONTROLLERS.every((c) => v1[c] !== undefined)) {
    return { layout: { version: 1, parents: v1 as Record<Controller, string>, mounts: v1Mounts as Record<Controller, string> } };
  }
  const v2 = all.find((m) => m.fstype === 'cgroup2');
  if (v2) {
    let available: string[] = [];
    try {
      available = readFileSync(join(v2.dir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
    } catch {
      // unreadable: reported as missing below
    }
    const missing = CONTROLLERS.filter((c) => !available.includes(c));
    if (missing.length === 0) return { layout: { version: 2, parent: v2.dir } };
    return { problem: `the cgroup v2 hierarchy at ${v2.dir} lacks the ${missing.join(', ')} controller${missing.length > 1 ? 's' : ''} (and no v1 hierarchy has them)` };
  }
  const missing = CONTROLLERS.filter((c) => v1[c] === undefined);
  return { problem: `no cgroup hierarchy with the ${missing.join(', ')} controller${missing.length > 1 ? 's' : ''} is mounted` };
}

/** The layout of this machine, or a UserError saying why limits cannot be applied here. */
export function requireCgroups(what: string): CgroupLayout {
  const r = detectCgroups();
  if ('problem' in r) throw new UserError(`${what} needs cgroups: ${r.problem}; mount them or drop the limit flags`);
  return r.layout;
}

/** Where our cgroups are made: the directories a process is moved to in order to leave them. */
export function parentDirs(layout: CgroupLayout): string[] {
  return layout.version === 2 ? [layout.parent] : CONTROLLERS.map((c) => layout.parents[c]);
}

/** Directories of one cgroup: one per controller on v1, one in all on v2. */
export function cgroupDirs(layout: CgroupLayout, name: string): string[] {
  return layout.version === 2 ? [join(layout.parent, name)] : CONTROLLERS.map((c) => join(layout.parents[c], name));
}

function write(dir: string, file: string, value: string): void {
  try {
    writeFileSync(join(dir, file), value);
  } catch (e) {
    throw new Error(`cannot write '${value}' to ${join(dir, file)}: ${(e as Error).message}`);
  }
}

function read(dir: string, file: string): string {
  return readFileSync(join(dir, file), 'utf8').trim();
}

/**
 * The writes that make a cgroup with these limits (mkdir included). For v2 it also enables the
 * controllers for the parent's children. The CPU set must already be validated (see checkLimits).
 */
export function createCgroup(layout: CgroupLayout, name: string, limits: DeviceLimits): string[] {
  if (layout.version === 2) {
    const enabled = read(layout.parent, 'cgroup.subtree_control').split(/\s+/);
    const missing = CONTROLLERS.filter((c) => !enabled.includes(c));
    if (missing.length > 0) write(layout.parent, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '));
    const dir = join(layout.parent, name);
    mkdirSync(dir);
    if (limits.cpuset !== undefined) write(dir, 'cpuset.cpus', limits.cpuset);
    write(dir, 'cpu.weight', String(MAX_WEIGHT.v2));
    setCpuLimit(layout, [dir], limits.cpus);
    write(dir, 'memory.max', limits.memoryBytes === undefined ? 'max' : String(limits.memoryBytes));
    return [dir];
  }
  const dirs = cgroupDirs(layout, name);
  const [, cpuset, memory] = dirs as [string, string, string];
  for (const d of dirs) mkdirSync(d);
  // a v1 cpuset starts empty, and takes no process until it has CPUs and memory nodes
  write(cpuset, 'cpuset.cpus', limits.cpuset ?? read(layout.parents.cpuset, 'cpuset.effective_cpus'));
  write(cpuset, 'cpuset.mems', read(layout.parents.cpuset, 'cpuset.effective_mems'));
  write(dirs[0]!, 'cpu.shares', String(MAX_WEIGHT.v1));
  setCpuLimit(layout, dirs, limits.cpus);
  if (limits.memoryBytes !== undefined) write(memory, 'memory.limit_in_bytes', String(limits.memoryBytes));
  return dirs;
}

/** Changes the CPU time limit of a cgroup made by createCgroup (undefined: no limit). */
export function setCpuLimit(layout: CgroupLayout, dirs: string[], cpus: number | undefined): void {
  const quota = cpus === undefined ? null : cpuQuota(cpus);
  if (layout.version === 2) {
    write(dirs[0]!, 'cpu.max', quota ? `${quota.quotaUs} ${quota.periodUs}` : `max ${PERIOD_US}`);
    return;
  }
  const cpu = dirs[CONTROLLERS.indexOf('cpu')]!;
  // v1 checks quota against period on each write: lift the quota first, then set period and quota
  write(cpu, 'cpu.cfs_quota_us', '-1');
  write(cpu, 'cpu.cfs_period_us', String(quota?.periodUs ?? PERIOD_US));
  if (quota) write(cpu, 'cpu.cfs_quota_us', String(quota.quotaUs));
}

/** Moves a process (all its threads) into the cgroup; its later children are born there. */
export function attachToCgroup(dirs: string[], pid: number): void {
  for (const d of dirs) write(d, 'cgroup.procs', String(pid));
}

function procsOf(dir: string): number[] {
  try {
    return read(dir, 'cgroup.procs').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Removes a cgroup: this process moves out to the parent, whatever else is still inside (our
 * stressors, by construction: nothing else is started there) is killed, then the directories go.
 * Synchronous, for exit handlers. Returns true if a directory was removed (or went meanwhile: two
 * sweeps may race for one leftover, and it is gone either way).
 */
export function removeCgroup(dirs: string[], waitMs = 2000): boolean {
  let removed = false;
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    const parent = join(dir, '..');
    if (procsOf(dir).includes(process.pid)) {
      try {
        write(parent, 'cgroup.procs', String(process.pid));
      } catch {
        // the rmdir below then fails and says so
      }
    }
    const deadline = Date.now() + waitMs;
    const cell = new Int32Array(new SharedArrayBuffer(4));
    for (;;) {
      const left = procsOf(dir).filter((p) => p !== process.pid);
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      try {
        rmdirSync(dir);
        removed = true;
        break;
      } catch (e) {
        // gone meanwhile: another run's leftover sweep (every dnn-edge and dnn-cloud sweeps at its start) removed it
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          removed = true;
          break;
        }
        // EBUSY while the killed are still exiting
        if (Date.now() > deadline) throw new Error(`cannot remove cgroup ${dir}: ${(e as Error).message}`);
        Atomics.wait(cell, 0, 0, 20);
      }
    }
  }
  return removed;
}

/** Our cgroups anywhere under the mounted hierarchies (names dnn-<pid36>-...), for the leftover sweep. */
export function findOurCgroups(layout: CgroupLayout, maxDepth = 4): string[] {
  const roots = layout.version === 2 ? [layout.parent] : CONTROLLERS.map((c) => layout.mounts[c]);
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      return;
    }
    for (const n of names) {
      if (n.startsWith('dnn-')) found.push(join(dir, n));
      else if (depth < maxDepth) walk(join(dir, n), depth + 1);
    }
  };
  for (const r of [...new Set(roots)]) walk(r, 0);
  return found;
}

/**
 * What the process may use, as its own cgroups say (whoever made them): CPUs, CPU time in cores
 * (the quota, or the CPU count without one), memory (null: no limit below the machine's).
 */
export function ownLimits(layout: CgroupLayout | null = cgroupLayoutOrNull(), procCgroup?: string): { cpus: number[]; cores: number; memoryBytes: number | null } {
  const cpus = ownCpus();
  let cores = cpus.length;
  let memoryBytes: number | null = null;
  if (layout) {
    const own = ownCgroups(procCgroup ?? readFileSync('/proc/self/cgroup', 'utf8'));
    try {
      if (layout.version === 1) {
        const cpuDir = join(layout.mounts.cpu, own.get('cpu') ?? '/');
        const quota = Number(read(cpuDir, 'cpu.cfs_quota_us'));
        if (quota > 0) cores = Math.min(cores, quota / Number(read(cpuDir, 'cpu.cfs_period_us')));
        const mem = Number(read(join(layout.mounts.memory, own.get('memory') ?? '/'), 'memory.limit_in_bytes'));
        if (mem < 2 ** 60) memoryBytes = mem;
      } else {
        const dir = join(layout.parent, own.get('') ?? '/');
        const [q, p] = read(dir, 'cpu.max').split(' ');
        if (q !== 'max') cores = Math.min(cores, Number(q) / Number(p));
        const mem = read(dir, 'memory.max');
        if (mem !== 'max') memoryBytes = Number(mem);
      }
    } catch {
      // the root cgroup has no limit files: no limits
    }
  }
  return { cpus, cores, memoryBytes };
}

let cachedLayout: CgroupLayout | null | undefined;
function cgroupLayoutOrNull(): CgroupLayout | null {
  if (cachedLayout === undefined) {
    const r = detectCgroups();
    cachedLayout = 'layout' in r ? r.layout : null;
  }
  return cachedLayout;
}

/** A clear error for limits this machine cannot give (CPUs it lacks, more cores than the set has). */
export function checkLimits(flag: string, l: DeviceLimits, allowed: number[] = allowedCpus()): void {
  let count = allowed.length;
  if (l.cpuset !== undefined) {
    const wanted = parseCpuList(l.cpuset);
    const foreign = wanted.filter((c) => !allowed.includes(c));
    if (foreign.length > 0) throw new UserError(`${flag}-cpuset ${l.cpuset}: CPU ${foreign.join(', ')} is not available here (available: ${formatCpuList(allowed)})`);
    count = wanted.length;
  }
  if (l.cpus !== undefined && l.cpus > count) {
    throw new UserError(`${flag}-cpus ${l.cpus}: more cores than the ${count} CPU${count > 1 ? 's' : ''} it may run on; lower it or widen ${flag}-cpuset`);
  }
}

/** One line for logs and results: "CPUs 0, 0.25 cores, 512 MiB". */
export function describeLimits(l: DeviceLimits): string {
  const parts = [l.cpuset !== undefined ? `CPU${parseCpuList(l.cpuset).length > 1 ? 's' : ''} ${l.cpuset}` : 'any CPU'];
  if (l.cpus !== undefined) parts.push(`${+l.cpus.toFixed(3)} core${l.cpus === 1 ? '' : 's'} of CPU time`);
  parts.push(l.memoryBytes !== undefined ? `${(l.memoryBytes / 2 ** 20).toFixed(0)} MiB memory` : 'no memory limit');
  return parts.join(', ');
}

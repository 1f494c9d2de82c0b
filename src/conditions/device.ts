import { ownedName, registerChange } from './cleanup.js';
import { allowedCpus, createCgroup, attachToCgroup, cgroupDirs, checkLimits, parentDirs, parseCpuList, requireCgroups, setCpuLimit, type DeviceLimits } from './cgroup.js';
import { keepAwake } from './keep-awake.js';

/** Which end a process plays; flags are --edge-* or --cloud-*. */
export type Side = 'edge' | 'cloud';

/** One end of the lab as a device: a cgroup with limits, recorded for clean-up before it was made. */
export interface Device {
  side: Side;
  /** the cgroup's name (dnn-<pid36>-<n><e|c>) */
  name: string;
  /** the limits in effect (cpus changes with setCpus) */
  readonly limits: DeviceLimits;
  /** the CPUs it may run on (its cpuset, else every CPU this process may use) */
  readonly cpuList: number[];
  /** cgroup directories outside the device (its parent): where helpers go that must not eat its quota */
  readonly outside: string[];
  /** Moves a process (all its threads) in; what it starts later is born inside. */
  attach(pid: number): void;
  /** Changes its CPU time limit, in cores (calibration); undefined lifts it. */
  setCpus(cores: number | undefined): void;
  /** Moves this process out if inside, ends what is left inside, removes the cgroup. Idempotent. */
  release(): void;
}

/** The same limits as command-line arguments, --edge-... or --cloud-... (the lab hands the cloud's to its dnn-cloud). */
export function deviceArgs(side: Side, l: DeviceLimits): string[] {
  return [
    ...(l.cpuset !== undefined ? [`--${side}-cpuset`, l.cpuset] : []),
    ...(l.cpus !== undefined ? [`--${side}-cpus`, String(l.cpus)] : []),
    ...(l.memoryBytes !== undefined ? [`--${side}-memory`, String(l.memoryBytes)] : []),
  ];
}

export function hasLimits(l: DeviceLimits): boolean {
  return l.cpuset !== undefined || l.cpus !== undefined || l.memoryBytes !== undefined;
}

/** A cgroup with these limits, removed on every exit path of this process (and by the next run after a kill -9). */
export function makeDevice(side: Side, limits: DeviceLimits): Device {
  checkLimits(`--${side}`, limits);
  const layout = requireCgroups(`--${side}-cpuset/--${side}-cpus/--${side}-memory`);
  const name = `${ownedName()}${side[0]}`;
  const dirs = cgroupDirs(layout, name);
  const reg = registerChange({ kind: 'cgroup', dirs });
  try {
    createCgroup(layout, name, limits);
  } catch (e) {
    reg.undo();
    throw e;
  }
  const current = { ...limits };
  // a fractional CPU time keeps the device's CPUs awake (see keep-awake.ts)
  const cpuList = limits.cpuset !== undefined ? parseCpuList(limits.cpuset) : allowedCpus(layout);
  const outside = parentDirs(layout);
  const awake = keepAwake(outside);
  const throttled = (cores: number | undefined) => (cores !== undefined && cores < cpuList.length ? cpuList : []);
  awake.set(throttled(limits.cpus));
  return {
    side,
    name,
    limits: current,
    cpuList,
    outside,
    attach: (pid) => attachToCgroup(dirs, pid),
    setCpus(cores) {
      setCpuLimit(layout, dirs, cores);
      if (cores === undefined) delete current.cpus;
      else current.cpus = cores;
      awake.set(throttled(cores));
    },
    release: () => {
      awake.stop();
      reg.undo();
    },
  };
}

/** Makes this process (and so everything it starts from now on) a device with these limits. */
export function confineSelf(side: Side, limits: DeviceLimits): Device {
  const device = makeDevice(side, limits);
  try {
    device.attach(process.pid);
  } catch (e) {
    device.release();
    throw e;
  }
  return device;
}

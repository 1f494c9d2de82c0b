import { ownedName, registerChange } from './cleanup.js';
import { createCgroup, attachToCgroup, cgroupDirs, checkLimits, requireCgroups, setCpuLimit, type DeviceLimits } from './cgroup.js';

/** Which end a process plays; flags are --edge-* or --cloud-*. */
export type Side = 'edge' | 'cloud';

export interface Confinement {
  side: Side;
  /** the cgroup's name (dnn-<pid36>-<n><e|c>) */
  name: string;
  /** the limits in effect (cpus changes with setCpus) */
  readonly limits: DeviceLimits;
  /** Changes its CPU time limit, in cores (calibration); undefined lifts it. */
  setCpus(cores: number | undefined): void;
  /** Moves this process out, ends what is left inside, removes the cgroup. Idempotent. */
  release(): void;
}

export function hasLimits(l: DeviceLimits): boolean {
  return l.cpuset !== undefined || l.cpus !== undefined || l.memoryBytes !== undefined;
}

/**
 * Makes this process (and so everything it starts from now on) a device with these limits:
 * a cgroup of its own, recorded for clean-up before it is made, removed on every exit path.
 */
export function confineSelf(side: Side, limits: DeviceLimits): Confinement {
  checkLimits(`--${side}`, limits);
  const layout = requireCgroups(`--${side}-cpuset/--${side}-cpus/--${side}-memory`);
  const name = `${ownedName()}${side[0]}`;
  const dirs = cgroupDirs(layout, name);
  const reg = registerChange({ kind: 'cgroup', dirs });
  try {
    createCgroup(layout, name, limits);
    attachToCgroup(dirs, process.pid);
  } catch (e) {
    reg.undo();
    throw e;
  }
  const current = { ...limits };
  return {
    side,
    name,
    limits: current,
    setCpus(cores) {
      setCpuLimit(layout, dirs, cores);
      if (cores === undefined) delete current.cpus;
      else current.cpus = cores;
    },
    release: () => reg.undo(),
  };
}

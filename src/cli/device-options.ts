import { Option } from 'commander';
import { parseCpuList } from '../conditions/cgroup.js';
import type { DeviceLimits } from '../conditions/cgroup.js';
import type { Side } from '../conditions/device.js';
import { UserError } from '../errors.js';
import { parseBytesArg } from './common.js';

/**
 * The limits that make one end a device of its own (a cgroup): --edge-cpuset, --edge-cpus,
 * --edge-memory and the same for --cloud-*. dnn-edge takes both sets (the lab's cloud gets
 * the cloud's), dnn-cloud the cloud's for itself.
 */
export interface DeviceFlags {
  cpuset?: string;
  cpus?: number;
  memory?: number;
}

export function parseCpusArg(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 4096) throw new UserError(`${flag} must be CPU time in cores above 0, like 0.25 or 2, got '${value}'`);
  if (n < 0.01) throw new UserError(`${flag} ${value}: below 0.01 cores the kernel's minimum quota (1 ms) needs periods over 100 ms; use 0.01 or more`);
  return n;
}

export function parseCpusetArg(value: string, flag: string): string {
  try {
    return parseCpuList(value).join(',');
  } catch (e) {
    throw new UserError(`${flag}: ${(e as Error).message}`);
  }
}

/** The three options of one end, for commander. */
export function deviceOptions(side: Side): Option[] {
  return [
    new Option(`--${side}-cpuset <list>`, `${side}: CPUs it may run on, e.g. 0 or 1-3${side === 'edge' ? " (lab default: the first CPU)" : ' (lab default: the CPUs the edge does not use)'}`).argParser((v: string) =>
      parseCpusetArg(v, `--${side}-cpuset`),
    ),
    new Option(`--${side}-cpus <cores>`, `${side}: CPU time in cores, fractional: 0.25 = a quarter of one core (10 ms enforcement period)`).argParser((v: string) => parseCpusArg(v, `--${side}-cpus`)),
    new Option(`--${side}-memory <size>`, `${side}: memory it may use, e.g. 512MiB or 2G`).argParser((v: string) => parseBytesArg(v, `--${side}-memory`, 16 * 1024 ** 2, 2 ** 50)),
  ];
}

/** The limits of one end from commander's options object (keys edgeCpuset, edgeCpus, edgeMemory...). */
export function deviceLimitsFrom(opts: object, side: Side): DeviceLimits {
  const get = (what: string) => (opts as Record<string, unknown>)[`${side}${what}`];
  const l: DeviceLimits = {};
  if (get('Cpuset') !== undefined) l.cpuset = get('Cpuset') as string;
  if (get('Cpus') !== undefined) l.cpus = get('Cpus') as number;
  if (get('Memory') !== undefined) l.memoryBytes = get('Memory') as number;
  return l;
}

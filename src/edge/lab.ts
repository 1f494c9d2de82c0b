import { fileURLToPath } from 'node:url';
import type { ResultPromise } from 'execa';
import { createLabNetwork, type LabNetwork } from '../conditions/netns.js';
import { registerChange, type Registration } from '../conditions/cleanup.js';
import { ownStartTime, readProcStat } from '../conditions/proc.js';
import { formatCpuList, parseCpuList, type DeviceLimits } from '../conditions/cgroup.js';
import { deviceArgs, makeDevice, type Device } from '../conditions/device.js';

const CLOUD_JS = fileURLToPath(new URL('../cli/cloud.js', import.meta.url));
/** dnn-relay's entry (the edge tier of a three-tier lab) */
export const RELAY_JS = fileURLToPath(new URL('../cli/relay.js', import.meta.url));
export { CLOUD_JS, LAB_PORT };
const LAB_PORT = 5000;

/**
 * The lab's two devices: what the user gave, and disjoint CPU sets where not given (the edge on
 * one CPU, the cloud on the rest; on one CPU both share it).
 */
export function labDevices(allowed: number[], edge: DeviceLimits, cloud: DeviceLimits): { edge: DeviceLimits; cloud: DeviceLimits } {
  const taken = (l: DeviceLimits) => (l.cpuset === undefined ? [] : parseCpuList(l.cpuset));
  const free = (l: DeviceLimits) => allowed.filter((c) => !taken(l).includes(c));
  const edgeSet = edge.cpuset ?? String((free(cloud)[0] ?? allowed[0])!);
  const cloudFree = allowed.filter((c) => !parseCpuList(edgeSet).includes(c));
  const cloudSet = cloud.cpuset ?? formatCpuList(cloudFree.length > 0 ? cloudFree : allowed);
  return { edge: { ...edge, cpuset: edgeSet }, cloud: { ...cloud, cpuset: cloudSet } };
}

export interface Lab {
  network: LabNetwork;
  /** where the edge connects */
  host: string;
  port: number;
  /** interface to shape: the edge end of the veth pair */
  iface: string;
  /** what the cloud printed so far (shown when it fails) */
  cloudLog(): string;
  /** stops the cloud (it ends its own stressors) and removes namespace and veth pair */
  close(): Promise<void>;
}

/**
 * The local lab: a dnn-cloud in a private network namespace joined to this (edge) process by a
 * veth pair with 198.18.0.0/15 addresses, in a cgroup of its own (its device) when given limits.
 * With `manyEdges` the other edges' veths (lab-edges/fleet.ts) end in its namespace too. Everything is registered for clean-up on every exit
 * path; the cloud also watches this process and ends itself if the edge is killed outright.
 */
export async function startLab(cloudArgs: string[], log: (line: string) => void, cloudLimits?: DeviceLimits, manyEdges = false): Promise<Lab> {
  const network = await createLabNetwork();
  let service: LabService;
  try {
    // several edges (--edges N) reach it through veths of their own: it listens on every address of its namespace, and only they reach that
    service = await startLabService(network, CLOUD_JS, [...cloudArgs, '--host', manyEdges ? '0.0.0.0' : network.cloudAddress, '--port', String(LAB_PORT)], 'cloud', cloudLimits);
    log(`lab: dnn-cloud listening at ${network.cloudAddress}:${LAB_PORT} in namespace ${network.netns}, edge end ${network.edgeIface} (${network.edgeAddress})`);
  } catch (e) {
    await network.teardown();
    throw e;
  }
  return {
    network,
    host: network.cloudAddress,
    port: LAB_PORT,
    iface: network.edgeIface,
    cloudLog: service.log,
    close: async () => {
      await service.stop();
      await network.teardown();
    },
  };
}

/** A lab process (dnn-cloud, dnn-relay) listening in a namespace, in its device when given limits. */
export interface LabService {
  /** what it printed so far */
  log(): string;
  /** the device it runs in (its cgroup), when it was given limits */
  device: Device | null;
  /** SIGTERM (SIGKILL after 5 s), then its registration and device go */
  stop(): Promise<void>;
}

/**
 * Starts `script` (node) in `ns`'s namespace with the `--parent-pid` watch, registered for clean-up
 * as a process group and in a device of `side` when given limits; resolves once it logs its
 * "listening on" line, rejects (everything undone) when it exits before.
 */
export async function startLabService(ns: Pick<LabNetwork, 'spawnInNetns'>, script: string, args: string[], side: 'edge' | 'cloud', limits?: DeviceLimits): Promise<LabService> {
  const what = script === CLOUD_JS ? 'dnn-cloud' : 'dnn-relay';
  let proc: ResultPromise | null = null;
  let reg: Registration | null = null;
  let device: Device | null = null;
  let text = '';
  try {
    device = limits ? makeDevice(side, limits) : null;
    const limitArgs = limits && script === CLOUD_JS ? [...deviceArgs('cloud', limits), '--in-device'] : [];
    proc = ns.spawnInNetns(process.execPath, [script, ...args, ...limitArgs, '--parent-pid', `${process.pid}:${ownStartTime()}`], { detached: true, reject: false, stdin: 'ignore', env: { NODE_OPTIONS: '' } });
    const pid = proc.pid!;
    reg = registerChange({ kind: 'process-group', pid, startTime: readProcStat(pid)?.startTime ?? 0, what: `lab ${what}`, graceful: true });
    // at once: it starts nothing of its own (stressors) before it listens
    device?.attach(pid);
    proc.stderr!.on('data', (d: Buffer) => (text += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const onData = () => {
        if (/listening on /.test(text)) {
          proc!.stderr!.off('data', onData);
          resolve();
        }
      };
      proc!.stderr!.on('data', onData);
      void proc!.then((r) => reject(new Error(`the lab's ${what} exited (${r.exitCode ?? r.signal}) before listening:\n${text.trim()}`)));
    });
  } catch (e) {
    if (proc) proc.kill('SIGKILL');
    reg?.undo();
    device?.release();
    throw e;
  }
  const running = proc;
  return {
    log: () => text,
    device,
    stop: async () => {
      if (running.exitCode === null && running.signalCode === null) {
        running.kill('SIGTERM'); // the cloud stops its stressors on the way out
        const timer = setTimeout(() => running.kill('SIGKILL'), 5000);
        await running;
        clearTimeout(timer);
      }
      reg?.undo();
      device?.release();
    },
  };
}

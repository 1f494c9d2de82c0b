import { fileURLToPath } from 'node:url';
import type { ResultPromise } from 'execa';
import { createLabNetwork, type LabNetwork } from '../conditions/netns.js';
import { registerChange, type Registration } from '../conditions/cleanup.js';
import { ownStartTime, readProcStat } from '../conditions/proc.js';
import { formatCpuList, parseCpuList, type DeviceLimits } from '../conditions/cgroup.js';
import { deviceArgs, makeDevice, type Device } from '../conditions/device.js';

const CLOUD_JS = fileURLToPath(new URL('../cli/cloud.js', import.meta.url));
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
  let cloud: ResultPromise | null = null;
  let reg: Registration | null = null;
  let device: Device | null = null;
  let text = '';
  try {
    device = cloudLimits ? makeDevice('cloud', cloudLimits) : null;
    const limitArgs = cloudLimits ? [...deviceArgs('cloud', cloudLimits), '--in-device'] : [];
    cloud = network.spawnInNetns(
      process.execPath,
      // several edges (--edges N) reach it through veths of their own: it listens on every address of its namespace, and only they reach that
      [CLOUD_JS, ...cloudArgs, ...limitArgs, '--host', manyEdges ? '0.0.0.0' : network.cloudAddress, '--port', String(LAB_PORT), '--parent-pid', `${process.pid}:${ownStartTime()}`],
      { detached: true, reject: false, stdin: 'ignore', env: { NODE_OPTIONS: '' } },
    );
    const pid = cloud.pid!;
    reg = registerChange({ kind: 'process-group', pid, startTime: readProcStat(pid)?.startTime ?? 0, what: 'lab dnn-cloud', graceful: true });
    // at once: the cloud starts nothing of its own (stressors) before it listens
    device?.attach(pid);
    cloud.stderr!.on('data', (d: Buffer) => (text += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const onData = () => {
        if (/listening on /.test(text)) {
          cloud!.stderr!.off('data', onData);
          resolve();
        }
      };
      cloud!.stderr!.on('data', onData);
      void cloud!.then((r) => reject(new Error(`the lab's dnn-cloud exited (${r.exitCode ?? r.signal}) before listening:\n${text.trim()}`)));
    });
    log(`lab: dnn-cloud listening at ${network.cloudAddress}:${LAB_PORT} in namespace ${network.netns}, edge end ${network.edgeIface} (${network.edgeAddress})`);
  } catch (e) {
    if (cloud) cloud.kill('SIGKILL');
    reg?.undo();
    device?.release();
    await network.teardown();
    throw e;
  }
  const proc = cloud;
  return {
    network,
    host: network.cloudAddress,
    port: LAB_PORT,
    iface: network.edgeIface,
    cloudLog: () => text,
    close: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM'); // the cloud stops its stressors on the way out
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await proc;
        clearTimeout(timer);
      }
      reg?.undo();
      device?.release();
      await network.teardown();
    },
  };
}

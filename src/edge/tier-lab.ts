import { FACTOR } from '../conditions/factors.js';
import { NO_CONDITION, type Condition } from '../conditions/condition.js';
import { addEdgeNetwork, createLabNetwork, type EdgeNetwork, type LabNetwork } from '../conditions/netns.js';
import { applyShaping, isNoShaping, restoreShaping, sameShaping, shapingOf, type Shaping } from '../conditions/tc.js';
import { formatCpuList, type DeviceLimits } from '../conditions/cgroup.js';
import type { Device } from '../conditions/device.js';
import { CLOUD_JS, LAB_PORT, RELAY_JS, startLabService, type LabService } from './lab.js';
import type { ConditionController } from './sweep.js';

/**
 * The three-tier lab (`dnn-edge lab <net> --tiers 3`): the device is this process in the host's
 * namespace; the edge tier (dnn-relay) runs in a namespace of its own, joined to the host by the
 * lab's veth pair (the device link); the cloud (dnn-cloud) in a third namespace, joined to the edge
 * tier's by a second veth pair (the edge-cloud link); addresses from 198.18.0.0/15 only. Each link
 * is shaped on its own: the device link at its host end (egress device -> edge tier, `dnet`), the
 * edge-cloud link at its edge-tier end, with tc run inside that namespace (egress edge -> cloud:
 * `net`, `delay`, `jitter`, `loss`). Every namespace, veth, qdisc, process and cgroup is registered
 * for clean-up (normal exit, signals, a crash; a later run sweeps a kill -9's leftovers).
 */

export interface TierLab {
  /** where the device connects: the relay */
  host: string;
  port: number;
  /** the device link's host end (shaped for `dnet`) */
  deviceIface: string;
  /** the edge tier's end of the edge-cloud link and its namespace (shaped for `net` and netem) */
  edgeIface: string;
  edgeNetns: string;
  /** the relay's device (cgroup), which --edge-slowdown calibrates */
  relayDevice: Device | null;
  /** what the relay and the cloud printed so far */
  logs(): string;
  /** puts a condition's two links in effect (only what changes) */
  controller(): ConditionController;
  /** stops the relay and the cloud, removes the qdiscs, namespaces and veths */
  close(): Promise<void>;
}

/**
 * CPU sets of the three tiers where not given: the device on the first CPU, the edge tier on the
 * next, the cloud on the rest (with two CPUs the edge tier and the cloud share the second: they
 * compute one after the other, never at once, for a request).
 */
export function tierLabDevices(allowed: number[], cloud: DeviceLimits): { device: DeviceLimits; edge: DeviceLimits; cloud: DeviceLimits } {
  const at = (i: number) => allowed[Math.min(i, allowed.length - 1)]!;
  const rest = allowed.length > 2 ? allowed.slice(2) : [at(1)];
  return { device: { cpuset: String(at(0)) }, edge: { cpuset: String(at(1)) }, cloud: { ...cloud, cpuset: cloud.cpuset ?? formatCpuList(rest) } };
}

/** Starts the three tiers' network, cloud and relay; `endArgs`: the network and backend flags both services take. */
export async function startTierLab(network: string, endArgs: string[], cloudArgs: string[], limits: { edge: DeviceLimits; cloud: DeviceLimits }, log: (line: string) => void): Promise<TierLab> {
  const deviceNet: LabNetwork = await createLabNetwork();
  let cloudNet: EdgeNetwork | null = null;
  let cloud: LabService | null = null;
  let relay: LabService | null = null;
  const applied = { device: null as Shaping | null, edge: null as Shaping | null };
  const teardown = async () => {
    await relay?.stop();
    await cloud?.stop();
    await restoreShaping(deviceNet.edgeIface).catch(() => undefined);
    if (cloudNet) await restoreShaping(cloudNet.cloudIface, { netns: deviceNet.netns }).catch(() => undefined);
    await cloudNet?.teardown();
    await deviceNet.teardown();
  };
  try {
    // the cloud's namespace hangs off the edge tier's: its veth's "edge" end is the cloud's, its "cloud" end the edge tier's
    cloudNet = await addEdgeNetwork(deviceNet, 1);
    const cloudAt = { spawnInNetns: cloudNet.spawnInNetns };
    cloud = await startLabService(cloudAt, CLOUD_JS, [...cloudArgs, '--host', cloudNet.edgeAddress, '--port', String(LAB_PORT)], 'cloud', limits.cloud);
    log(`lab: dnn-cloud listening at ${cloudNet.edgeAddress}:${LAB_PORT} in namespace ${cloudNet.netns}`);
    relay = await startLabService(deviceNet, RELAY_JS, [cloudNet.edgeAddress, network, ...endArgs, '--listen', deviceNet.cloudAddress, '--port', String(LAB_PORT), '--next-port', String(LAB_PORT)], 'edge', limits.edge);
    log(`lab: dnn-relay (the edge tier) listening at ${deviceNet.cloudAddress}:${LAB_PORT} in namespace ${deviceNet.netns}, forwarding to the cloud over ${cloudNet.cloudIface}; device end ${deviceNet.edgeIface} (${deviceNet.edgeAddress})`);
  } catch (e) {
    await teardown();
    throw e;
  }
  const edgeLink = cloudNet;
  const shape = async (which: 'device' | 'edge', s: Shaping) => {
    const [iface, opts] = which === 'device' ? [deviceNet.edgeIface, {}] : [edgeLink.cloudIface, { netns: deviceNet.netns }];
    if (applied[which] !== null && sameShaping(applied[which]!, s)) return;
    if (isNoShaping(s)) await restoreShaping(iface, opts);
    else await applyShaping(iface, s, opts);
    applied[which] = s;
  };
  return {
    host: deviceNet.cloudAddress,
    port: LAB_PORT,
    deviceIface: deviceNet.edgeIface,
    edgeIface: edgeLink.cloudIface,
    edgeNetns: deviceNet.netns,
    relayDevice: relay.device,
    logs: () => `${relay!.log()}${cloud!.log()}`,
    controller: () => ({
      apply: async (c: Condition) => {
        await shape('device', deviceShaping(c));
        await shape('edge', shapingOf(c));
      },
      release: async () => undefined,
    }),
    close: teardown,
  };
}

/** The device link's shaping: its rate alone (`dnet`; delay, jitter and loss apply to the edge-cloud link). */
export function deviceShaping(c: Condition): Shaping {
  return shapingOf({ ...NO_CONDITION, net: c.dnet ?? FACTOR.dnet.neutral });
}

import { execa, type Options, type ResultPromise } from 'execa';
import { UserError } from '../errors.js';
import { ownedName, registerChange, type Registration } from './cleanup.js';
import { isRoot } from './proc.js';

/** A namespace and a veth pair from 198.18.0.0/15 (RFC 2544 benchmarking space, never routed). */
interface VethNetwork {
  netns: string;
  edgeIface: string;
  /** The veth end on the cloud's side (in the cloud's namespace). */
  cloudIface: string;
  edgeAddress: string;
  cloudAddress: string;
  /** the /30's number within 198.18.0.0/15 */
  subnet: number;
  /** Runs a command inside the namespace (ip netns exec execs it, so the child's pid is the command's). */
  spawnInNetns(file: string, args?: readonly string[], options?: Options): ResultPromise;
  /** Deletes the namespace and the veth pair. Idempotent. */
  teardown(): Promise<void>;
}

/**
 * The local lab's network: a namespace for the cloud end (`netns`) joined to the root namespace
 * (the edge end, `edgeIface`: shape it to slow the edge->cloud direction) by a veth pair.
 * Each lab takes its own /30, so two runs or tests can have labs at once.
 */
export type LabNetwork = VethNetwork;

/**
 * An extra edge's network (`--edges N`): its own namespace (`netns`), the veth's edge end in it
 * (shaped from inside), the cloud end in the lab's cloud namespace; `cloudAddress` is where this
 * edge reaches the cloud.
 */
export type EdgeNetwork = VethNetwork;

const LAB_BASE = (198 << 24) | (18 << 16); // 198.18.0.0
const LAB_SUBNETS = (2 * 65536) / 4; // /30s in a /15

function ipv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

async function usedLabSubnets(): Promise<Set<number>> {
  const out = await execa('ip', ['-o', '-4', 'addr', 'show'], { reject: false });
  const used = new Set<number>();
  for (const m of String(out.stdout).matchAll(/inet (198\.1[89])\.(\d+)\.(\d+)\//g)) {
    const n = LAB_BASE + ((m[1] === '198.19' ? 1 : 0) << 16) + (Number(m[2]) << 8) + Number(m[3]);
    used.add(Math.floor((n - LAB_BASE) / 4));
  }
  return used;
}

async function ip(args: string[]): Promise<void> {
  await execa('ip', args);
}

/** Creates what `regs` records, undoing all of it (newest first) when a step fails. */
async function buildOrUndo(regs: Registration[], build: () => Promise<void>): Promise<() => Promise<void>> {
  const teardown = async () => {
    for (const r of regs.reverse()) r.undo();
    regs.length = 0;
  };
  try {
    await build();
  } catch (e) {
    await teardown();
    throw e;
  }
  return teardown;
}

/** A fresh namespace name of this process (dnn-<pid36>-<n>), its veth ends (+ e|c) and the /30's .1 (edge) and .2 (cloud). */
function vethNetwork(netns: string, subnet: number): Omit<VethNetwork, 'teardown'> {
  return {
    netns,
    edgeIface: `${netns}e`,
    cloudIface: `${netns}c`,
    edgeAddress: ipv4(LAB_BASE + subnet * 4 + 1),
    cloudAddress: ipv4(LAB_BASE + subnet * 4 + 2),
    subnet,
    spawnInNetns: (file, args = [], options = {}) => execa('ip', ['netns', 'exec', netns, file, ...args], options),
  };
}

export async function createLabNetwork(): Promise<LabNetwork> {
  if (!isRoot()) throw new UserError('the local lab network needs root (network namespaces): run with sudo');
  const netns = ownedName();
  const used = await usedLabSubnets();
  let subnet = (process.pid * 64 + Number.parseInt(netns.split('-')[2]!, 36)) % LAB_SUBNETS;
  while (used.has(subnet)) subnet = (subnet + 1) % LAB_SUBNETS;
  const n = vethNetwork(netns, subnet);

  const regs: Registration[] = [];
  // the link first (deleting one end deletes the pair), then the namespace: newest first
  const teardown = await buildOrUndo(regs, async () => {
    regs.push(registerChange({ kind: 'netns', name: netns }));
    await ip(['netns', 'add', netns]);
    regs.push(registerChange({ kind: 'link', name: n.edgeIface }));
    await ip(['link', 'add', n.edgeIface, 'type', 'veth', 'peer', 'name', n.cloudIface, 'netns', netns]);
    await ip(['addr', 'add', `${n.edgeAddress}/30`, 'dev', n.edgeIface]);
    await ip(['link', 'set', n.edgeIface, 'up']);
    await ip(['-n', netns, 'addr', 'add', `${n.cloudAddress}/30`, 'dev', n.cloudIface]);
    await ip(['-n', netns, 'link', 'set', n.cloudIface, 'up']);
    await ip(['-n', netns, 'link', 'set', 'lo', 'up']);
  });
  return { ...n, teardown };
}

/**
 * One more edge of the lab (`--edges N`): a namespace of its own joined to the lab's cloud
 * namespace by a veth pair. Its /30 lives only in those two namespaces (never in the host's), so
 * it is the lab's own subnet plus `index`: distinct within the cloud's namespace, whatever other
 * labs use. Deleting the edge's namespace deletes the pair.
 */
export async function addEdgeNetwork(lab: LabNetwork, index: number): Promise<EdgeNetwork> {
  const netns = ownedName();
  const n = vethNetwork(netns, (lab.subnet + index) % LAB_SUBNETS);
  const regs: Registration[] = [];
  const teardown = await buildOrUndo(regs, async () => {
    regs.push(registerChange({ kind: 'netns', name: netns }));
    await ip(['netns', 'add', netns]);
    // made inside the two namespaces at once: it goes with them, never in the host's
    await ip(['link', 'add', n.edgeIface, 'netns', netns, 'type', 'veth', 'peer', 'name', n.cloudIface, 'netns', lab.netns]);
    await ip(['-n', netns, 'addr', 'add', `${n.edgeAddress}/30`, 'dev', n.edgeIface]);
    await ip(['-n', netns, 'link', 'set', n.edgeIface, 'up']);
    await ip(['-n', netns, 'link', 'set', 'lo', 'up']);
    await ip(['-n', lab.netns, 'addr', 'add', `${n.cloudAddress}/30`, 'dev', n.cloudIface]);
    await ip(['-n', lab.netns, 'link', 'set', n.cloudIface, 'up']);
  });
  return { ...n, teardown };
}

import { execa, type Options, type ResultPromise } from 'execa';
import { UserError } from '../errors.js';
import { ownedName, registerChange, type Registration } from './cleanup.js';
import { isRoot } from './proc.js';

/**
 * The local lab's network: a namespace for the cloud end joined to the root namespace (the edge end)
 * by a veth pair, addressed from 198.18.0.0/15 (RFC 2544 benchmarking space, never routed).
 * Each lab takes its own /30, so two runs or tests can have labs at once.
 */
export interface LabNetwork {
  netns: string;
  /** The veth end in the root namespace; shape it to slow the edge->cloud direction. */
  edgeIface: string;
  /** The veth end inside the namespace. */
  cloudIface: string;
  edgeAddress: string;
  cloudAddress: string;
  /** Runs a command inside the namespace (ip netns exec execs it, so the child's pid is the command's). */
  spawnInNetns(file: string, args?: readonly string[], options?: Options): ResultPromise;
  /** Deletes the namespace and the veth pair. Idempotent. */
  teardown(): Promise<void>;
}

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

export async function createLabNetwork(): Promise<LabNetwork> {
  if (!isRoot()) throw new UserError('the local lab network needs root (network namespaces): run with sudo');
  const netns = ownedName();
  const edgeIface = `${netns}e`;
  const cloudIface = `${netns}c`;
  const used = await usedLabSubnets();
  let subnet = (process.pid * 64 + Number.parseInt(netns.split('-')[2]!, 36)) % LAB_SUBNETS;
  while (used.has(subnet)) subnet = (subnet + 1) % LAB_SUBNETS;
  const edgeAddress = ipv4(LAB_BASE + subnet * 4 + 1);
  const cloudAddress = ipv4(LAB_BASE + subnet * 4 + 2);

  const regs: Registration[] = [];
  const teardown = async () => {
    // The link first (deleting one end deletes the pair), then the namespace.
    for (const r of regs.reverse()) r.undo();
    regs.length = 0;
  };
  try {
    regs.push(registerChange({ kind: 'netns', name: netns }));
    await ip(['netns', 'add', netns]);
    regs.push(registerChange({ kind: 'link', name: edgeIface }));
    await ip(['link', 'add', edgeIface, 'type', 'veth', 'peer', 'name', cloudIface, 'netns', netns]);
    await ip(['addr', 'add', `${edgeAddress}/30`, 'dev', edgeIface]);
    await ip(['link', 'set', edgeIface, 'up']);
    await ip(['-n', netns, 'addr', 'add', `${cloudAddress}/30`, 'dev', cloudIface]);
    await ip(['-n', netns, 'link', 'set', cloudIface, 'up']);
    await ip(['-n', netns, 'link', 'set', 'lo', 'up']);
  } catch (e) {
    await teardown();
    throw e;
  }
  return {
    netns,
    edgeIface,
    cloudIface,
    edgeAddress,
    cloudAddress,
    spawnInNetns: (file, args = [], options = {}) => execa('ip', ['netns', 'exec', netns, file, ...args], options),
    teardown,
  };
}

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { execa } from 'execa';
import { UserError } from '../errors.js';
import { NO_CONDITION, type Condition } from './condition.js';
import { OUR_CHILD_HANDLE, OUR_HANDLE, claimKey, nsArgs, readStateClaims, registerChange, rootQdisc, undoChange, type Registration } from './cleanup.js';
import { isRoot } from './proc.js';

/**
 * Shaping of one interface's egress with tc.
 *
 * Rate: tbf with a burst of two packets (or 1 ms at the rate, if larger) instead of the published
 * tool's 500 kbit: that burst let the first 62.5 KB through at line speed, so a transfer of a few
 * hundred KB took noticeably less than its rate says. tbf also cuts GSO super-packets into
 * wire-size packets, so netem's loss applies per packet, as on a real link.
 * Delay, jitter, loss: a netem child of the tbf (or the root qdisc when the rate is not shaped).
 * netem is given a rate too when there is jitter: with a rate, netem keeps packets in order
 * (each leaves no earlier than the one before) instead of reordering them, which would make TCP
 * see spurious losses.
 * Both qdiscs carry our own handles (d1e: root, d1f: child) so leftovers are recognisable.
 */
export interface Shaping {
  /** Mbit/s; null leaves the rate as the link has it. */
  rateMbit: number | null;
  delayMs: number;
  jitterMs: number;
  lossPct: number;
}

/** Root qdiscs the kernel installs by itself; replacing them loses nothing, deleting ours brings them back. */
const DEFAULT_ROOT_QDISCS = new Set(['noqueue', 'pfifo_fast', 'fq_codel', 'mq', 'noop', 'none']);

/** Queue the study's tbf allowed (latency 50ms); kept so queueing delay stays comparable. */
const QUEUE_MS = 50;
/** tbf queue floor: TCP small queues keep a flow's share of a queue near 1 MiB or less anyway. */
const QUEUE_FLOOR_BYTES = 16 * 1024 * 1024;
const ETHERNET_HEADER = 14;

export function shapingOf(c: Condition): Shaping {
  return { rateMbit: c.net, delayMs: c.delay, jitterMs: c.jitter, lossPct: c.loss };
}

/** The link as it is: the shaping of the unshaped condition. */
export const NO_SHAPING: Shaping = shapingOf(NO_CONDITION);

export function sameShaping(a: Shaping, b: Shaping): boolean {
  return (Object.keys(NO_SHAPING) as (keyof Shaping)[]).every((k) => a[k] === b[k]);
}

export function isNoShaping(s: Shaping): boolean {
  return sameShaping(s, NO_SHAPING);
}

export function describeShaping(s: Shaping): string {
  const parts = [s.rateMbit === null ? 'unshaped rate' : `${s.rateMbit} Mbit/s`];
  if (s.delayMs || s.jitterMs) parts.push(`delay ${s.delayMs} ms ± ${s.jitterMs} ms`);
  if (s.lossPct) parts.push(`loss ${s.lossPct} %`);
  return parts.join(', ');
}

export interface QdiscLayout {
  /** 'change' alters the installed qdiscs in place (a trace step: no queue flush); default 'add' */
  verb?: 'add' | 'change';
  /** keep a netem child even without delay, jitter or loss, so a trace can change them later */
  netem?: boolean;
}

/**
 * The tc argument lists that install a shaping on an interface with the given MTU (pure, so the
 * choice of qdiscs can be read and tested without a network).
 */
export function shapingCommands(iface: string, s: Shaping, mtu: number, o: QdiscLayout = {}): string[][] {
  if (isNoShaping(s)) return [];
  const verb = o.verb ?? 'add';
  const packet = mtu + ETHERNET_HEADER;
  const netem = (parent: string[], handle: string, rateBytesPerS: number | null): string[] => {
    const args = ['qdisc', verb, 'dev', iface, ...parent, 'handle', `${handle}:`, 'netem'];
    // netem's queue also holds the packets in flight on its delay line.
    const lineBytes = rateBytesPerS ?? 0;
    const inFlight = Math.ceil((2 * lineBytes * (s.delayMs + s.jitterMs + QUEUE_MS)) / 1000 / packet);
    args.push('limit', String(Math.max(rateBytesPerS === null ? 1000 : 100, inFlight)));
    if (s.delayMs || s.jitterMs) {
      args.push('delay', `${s.delayMs}ms`);
      if (s.jitterMs) args.push(`${s.jitterMs}ms`);
    }
    if (s.lossPct) args.push('loss', `${s.lossPct}%`);
    // With a rate netem sends in order; without one, jitter reorders packets.
    if (s.jitterMs) args.push('rate', rateBytesPerS === null ? '100gbit' : `${s.rateMbit}mbit`);
    return args;
  };
  if (s.rateMbit === null) return [netem(['root'], OUR_HANDLE, null)];
  const rateBytes = (s.rateMbit * 1e6) / 8;
  const burst = Math.max(2 * packet, Math.ceil(rateBytes / 1000));
  // A queue deep enough for a whole burst of a warmed-up TCP window: with the study's 50 ms queue,
  // a long-lived connection bursts past it and the tail drop stalls the transfer for a 200 ms+
  // retransmission timeout (a 62 KB tensor at 10 Mbit/s took 340 ms instead of 50 ms).
  const limit = Math.max(Math.ceil((rateBytes * QUEUE_MS) / 1000) + burst, QUEUE_FLOOR_BYTES);
  const tbf = ['qdisc', verb, 'dev', iface, 'root', 'handle', `${OUR_HANDLE}:`, 'tbf', 'rate', `${s.rateMbit}mbit`, 'burst', String(burst), 'limit', String(limit)];
  if (s.delayMs === 0 && s.jitterMs === 0 && s.lossPct === 0 && !o.netem) return [tbf];
  return [tbf, netem(['parent', `${OUR_HANDLE}:1`], OUR_CHILD_HANDLE, rateBytes)];
}

/** The interface the kernel would send packets for host through. */
export async function interfaceFor(host: string, opts: { netns?: string } = {}): Promise<string> {
  let address = host;
  if (!isIP(host)) {
    try {
      address = (await lookup(host)).address;
    } catch {
      throw new UserError(`cannot resolve host '${host}': check the name, or give an IP address`);
    }
  }
  const r = await execa('ip', [...nsArgs(opts.netns), 'route', 'get', address], { reject: false });
  const m = /\bdev (\S+)/.exec(String(r.stdout));
  if (r.exitCode !== 0 || !m) throw new UserError(`no route to ${host} (${String(r.stderr).trim() || 'ip route get found no interface'}): check the address`);
  return m[1]!;
}

async function mtuOf(iface: string, netns?: string): Promise<number> {
  const r = await execa('ip', [...nsArgs(netns), '-o', 'link', 'show', 'dev', iface], { reject: false });
  const m = /\bmtu (\d+)/.exec(String(r.stdout));
  if (!m) throw new UserError(`network interface '${iface}' does not exist: check --iface (ip link lists the interfaces)`);
  return Number(m[1]);
}

export interface AppliedShaping {
  iface: string;
  netns?: string;
  shaping: Shaping;
  /** The tc commands that were run, for the run's metadata. */
  commands: string[];
  mtu: number;
  /** Removes our qdiscs; the kernel's default root qdisc comes back. Idempotent. */
  restore(): Promise<void>;
}

/** Our registrations per interface, so a new shaping on the same interface replaces the old one. */
const mine = new Map<string, Registration>();

/**
 * Shapes the egress of iface (replacing a shaping this process made there before).
 * Refuses, with a UserError, without root and when somebody else's root qdisc is in place.
 */
export async function applyShaping(iface: string, shaping: Shaping, opts: { netns?: string; netem?: boolean } = {}): Promise<AppliedShaping> {
  const key = claimKey({ kind: 'qdisc', iface, netns: opts.netns });
  if (!isRoot()) throw new UserError('shaping the network (tc) needs root: run with sudo, or pass --no-shape to measure the network as it is');
  const mtu = await mtuOf(iface, opts.netns);
  const current = rootQdisc(iface, opts.netns);
  if (current === null) throw new UserError(`network interface '${iface}' does not exist: check --iface (ip link lists the interfaces)`);
  if (current.handle === OUR_HANDLE) {
    if (!mine.has(key)) {
      const owner = readStateClaims().find((c) => claimKey(c.change) === key);
      if (owner) throw new UserError(`another dnn-partition-bench run (pid ${owner.pid}) is shaping ${iface}: wait for it to finish, or shape another interface`);
    }
    // Ours, from this run's previous condition or left by a killed run.
    undoChange({ kind: 'qdisc', iface, netns: opts.netns });
  } else if (!DEFAULT_ROOT_QDISCS.has(current.kind)) {
    throw new UserError(
      `${iface} already has a '${current.kind}' root qdisc (handle ${current.handle}:) that this tool did not install; ` +
        `remove it (tc qdisc del dev ${iface} root), shape another interface, or pass --no-shape`,
    );
  }
  const commands = shapingCommands(iface, shaping, mtu, { netem: opts.netem });
  let reg = mine.get(key);
  if (commands.length === 0) {
    reg?.release();
    mine.delete(key);
  } else {
    if (!reg) {
      reg = registerChange({ kind: 'qdisc', iface, netns: opts.netns });
      mine.set(key, reg);
    }
    for (const args of commands) {
      const r = await execa('tc', [...nsArgs(opts.netns), ...args], { reject: false });
      if (r.exitCode !== 0) {
        await restoreShaping(iface, opts);
        const kind = args[args.indexOf('handle') + 2];
        if (/qdisc kind is unknown/i.test(String(r.stderr))) {
          throw new UserError(`this kernel has no '${kind}' qdisc (CONFIG_NET_SCH_${kind!.toUpperCase()}): load it (modprobe sch_${kind}) or drop the flags that need it${kind === 'netem' ? ' (--delay, --jitter, --loss)' : ''}`);
        }
        throw new Error(`tc ${args.join(' ')} failed: ${String(r.stderr).trim()}`);
      }
    }
  }
  return {
    iface,
    netns: opts.netns,
    shaping,
    commands: commands.map((a) => `tc ${[...nsArgs(opts.netns), ...a].join(' ')}`),
    mtu,
    restore: () => restoreShaping(iface, opts),
  };
}

/** Removes our qdisc from iface if it is there (the kernel's default comes back). */
export async function restoreShaping(iface: string, opts: { netns?: string } = {}): Promise<void> {
  const key = claimKey({ kind: 'qdisc', iface, netns: opts.netns });
  const reg = mine.get(key);
  mine.delete(key);
  if (reg) reg.undo();
  else undoChange({ kind: 'qdisc', iface, netns: opts.netns });
}

import { execaSync } from 'execa';
import { OUR_HANDLE } from './names.js';

/**
 * What is on the host now, read with tc and ip. Synchronous on purpose: undo actions run in the
 * process's 'exit' event, where nothing asynchronous completes.
 */

export function run(cmd: string, args: string[]): { ok: boolean; stdout: string; stderr: string } {
  const r = execaSync(cmd, args, { reject: false, timeout: 10_000 });
  return { ok: r.exitCode === 0, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** The `-n NAME` that makes ip and tc act inside a namespace. */
export function nsArgs(netns?: string): string[] {
  return netns ? ['-n', netns] : [];
}

/** The kind and handle of the root qdisc of an interface, or null if the interface does not exist. */
export function rootQdisc(iface: string, netns?: string): { kind: string; handle: string } | null {
  const r = run('tc', [...nsArgs(netns), 'qdisc', 'show', 'dev', iface, 'root']);
  if (!r.ok) return null;
  const m = /^qdisc (\S+) ([0-9a-f]+):/m.exec(r.stdout);
  return m ? { kind: m[1]!, handle: m[2]! } : { kind: 'none', handle: '0' };
}

export function listNetns(): string[] {
  const r = run('ip', ['netns', 'list']);
  return r.ok ? r.stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.length > 0) : [];
}

/** Link names in the root namespace (a veth shows as name@peer; the peer part is dropped). */
export function listLinks(): string[] {
  const r = run('ip', ['-o', 'link', 'show']);
  if (!r.ok) return [];
  return r.stdout
    .split('\n')
    .map((l) => /^\d+: ([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
}

/** Interfaces of the root namespace whose root qdisc carries our handle. */
export function interfacesWithOurQdisc(): string[] {
  const r = run('tc', ['qdisc', 'show']);
  if (!r.ok) return [];
  const re = new RegExp(`^qdisc \\S+ ${OUR_HANDLE}: dev (\\S+) root`, 'gm');
  return [...r.stdout.matchAll(re)].map((m) => m[1]!);
}

import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execaSync } from 'execa';
import { isRoot, isSameProcess, ownStartTime, readProcStat } from './proc.js';
import { detectCgroups, findOurCgroups, removeCgroup } from './cgroup.js';

/**
 * Everything this package changes on the machine, undone on every exit path:
 * a registry of undo actions run on normal exit, uncaught exceptions and unhandled rejections
 * (Node emits 'exit' for both) and SIGINT/SIGTERM/SIGHUP, mirrored in a state file so that the
 * next run can undo what a SIGKILLed run left behind (cleanupLeftovers).
 * Undo actions are synchronous so that the 'exit' event can run them.
 */

/** One change to the machine. The state file lists them; undoChange() reverses each. */
export type Change =
  | { kind: 'qdisc'; iface: string; netns?: string }
  | { kind: 'netns'; name: string }
  | { kind: 'link'; name: string }
  /** a device of the lab: one directory per controller (v1) or one (v2) */
  | { kind: 'cgroup'; dirs: string[] }
  /** graceful: a process of ours that cleans up after itself (the lab's cloud): SIGTERM first */
  | { kind: 'process-group'; pid: number; startTime: number; what: string; graceful?: boolean };

/** Root qdisc handle (major, hex) of every qdisc this tool installs; its child uses OUR_CHILD_HANDLE. */
export const OUR_HANDLE = 'd1e';
export const OUR_CHILD_HANDLE = 'd1f';
/** Prefix of namespace and link names; the owner's pid follows in base 36: dnn-<pid36>-<n><side>. */
export const NAME_PREFIX = 'dnn-';

interface StateFile {
  pid: number;
  startTime: number;
  changes: Change[];
}

export function stateDir(): string {
  return isRoot() ? '/run/dnn-partition-bench' : join(tmpdir(), `dnn-partition-bench-${process.getuid?.() ?? 0}`);
}

function stateFilePath(pid = process.pid): string {
  return join(stateDir(), `state-${pid}.json`);
}

interface Entry {
  id: number;
  change: Change;
}

const entries: Entry[] = [];
let nextId = 1;
let nameCounter = 0;
let handlersInstalled = false;
const myStartTime = ownStartTime();

/** A fresh name for a namespace owned by this process; one more letter makes a link name (≤ 15 characters). */
export function ownedName(): string {
  return `${NAME_PREFIX}${process.pid.toString(36)}-${(nameCounter++).toString(36)}`;
}

/** The pid encoded in a name made by ownedName (with or without a letter appended), or null for names this tool did not make. */
export function ownerOfName(name: string): number | null {
  const m = /^dnn-([0-9a-z]+)-[0-9a-z]+$/.exec(name);
  return m ? parseInt(m[1]!, 36) : null;
}

export interface Registration {
  /** Undoes the change now (if not yet undone) and forgets it. */
  undo(): void;
  /** Forgets the change without undoing it (the caller undid it some other way). */
  release(): void;
}

/**
 * Records a change before it is made (so that a kill between the two still leaves a record)
 * and undoes it on exit unless undo()/release() ran first.
 */
export function registerChange(change: Change): Registration {
  installExitHandlers();
  const entry: Entry = { id: nextId++, change };
  entries.push(entry);
  persist();
  const forget = (): boolean => {
    const i = entries.indexOf(entry);
    if (i < 0) return false;
    entries.splice(i, 1);
    return true;
  };
  return {
    undo() {
      if (!entries.includes(entry)) return;
      undoChange(change);
      forget();
      persist();
    },
    release() {
      if (forget()) persist();
    },
  };
}

/** Undoes every registered change, newest first. Safe to call more than once. */
export function undoAll(): void {
  while (entries.length > 0) {
    const entry = entries[entries.length - 1]!;
    try {
      undoChange(entry.change);
    } catch (e) {
      process.stderr.write(`could not undo ${describeChange(entry.change)}: ${String(e)}\n`);
    }
    entries.pop();
    persist();
  }
}

function persist(): void {
  const path = stateFilePath();
  if (entries.length === 0) {
    rmSync(path, { force: true });
    return;
  }
  const dir = stateDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const state: StateFile = { pid: process.pid, startTime: myStartTime, changes: entries.map((e) => e.change) };
  // Write, fsync, rename, fsync the directory: after a crash the file is either old or new, never torn.
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeFileSync(fd, JSON.stringify(state));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

const EXIT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function onSignal(signal: NodeJS.Signals): void {
  undoAll();
  for (const s of EXIT_SIGNALS) process.removeListener(s, onSignal);
  // Die of the same signal so that the parent sees the usual status (130 for SIGINT, 143 for SIGTERM).
  // Other listeners (signal-exit, say) see it once more; with ours gone, Node's default ends the process.
  process.kill(process.pid, signal);
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // 'exit' also fires after an uncaught exception or unhandled rejection, keeping Node's exit code 1.
  process.on('exit', undoAll);
  for (const s of EXIT_SIGNALS) process.on(s, onSignal);
}

function run(cmd: string, args: string[]): { ok: boolean; stdout: string; stderr: string } {
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

export function describeChange(c: Change): string {
  switch (c.kind) {
    case 'qdisc':
      return `qdisc ${OUR_HANDLE}: on ${c.iface}${c.netns ? ` (netns ${c.netns})` : ''}`;
    case 'netns':
      return `network namespace ${c.name}`;
    case 'link':
      return `link ${c.name}`;
    case 'cgroup':
      return `cgroup ${c.dirs[0]!.split('/').pop()}`;
    case 'process-group':
      return `${c.what} (process group ${c.pid})`;
  }
}

/** Reverses one change if it is still in place. Returns true if something was removed. */
export function undoChange(c: Change): boolean {
  switch (c.kind) {
    case 'qdisc': {
      // Only our own qdisc: never delete shaping somebody else put there meanwhile.
      if (rootQdisc(c.iface, c.netns)?.handle !== OUR_HANDLE) return false;
      return run('tc', [...nsArgs(c.netns), 'qdisc', 'del', 'dev', c.iface, 'root']).ok;
    }
    case 'netns':
      if (!listNetns().includes(c.name)) return false;
      return run('ip', ['netns', 'del', c.name]).ok;
    case 'link':
      if (!listLinks().includes(c.name)) return false;
      return run('ip', ['link', 'del', c.name]).ok;
    case 'cgroup':
      return removeCgroup(c.dirs);
    case 'process-group': {
      // A living leader with another start time means the pid was reused: not ours, leave it.
      // A dead leader with living members: the pgid cannot have been reused while they live.
      const leader = readProcStat(c.pid);
      if (leader && leader.startTime !== c.startTime) return false;
      if (c.graceful && leader) {
        // let it undo its own changes (its stressors) on SIGTERM, briefly
        signalGroup(c.pid, 'SIGTERM');
        waitSync(() => !isSameProcess(c.pid, c.startTime), GRACE_MS);
      }
      const killed = signalGroup(c.pid, 'SIGKILL');
      // whatever it recorded and could not undo (killed before it could) is undone here
      if (c.graceful) {
        waitSync(() => !isSameProcess(c.pid, c.startTime), GRACE_MS);
        undoStateOf(c.pid, c.startTime);
      }
      return killed;
    }
  }
}

const GRACE_MS = 3000;

function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Blocks for up to `ms` until `done()`: undo actions must be synchronous (they run in 'exit'). */
function waitSync(done: () => boolean, ms: number): void {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) Atomics.wait(cell, 0, 0, 20);
}

/** Undoes the changes a dead process recorded in its state file, then removes the file. */
function undoStateOf(pid: number, startTime: number): void {
  const path = stateFilePath(pid);
  let state: StateFile;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as StateFile;
  } catch {
    return;
  }
  if (state.startTime !== startTime || isSameProcess(pid, startTime)) return;
  for (const change of [...state.changes].reverse()) undoChange(change);
  rmSync(path, { force: true });
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

function readStates(): { path: string; state: StateFile }[] {
  let names: string[];
  try {
    names = readdirSync(stateDir());
  } catch {
    return [];
  }
  const out: { path: string; state: StateFile }[] = [];
  for (const name of names) {
    if (!/^state-\d+\.json$/.test(name)) continue;
    const path = join(stateDir(), name);
    try {
      out.push({ path, state: JSON.parse(readFileSync(path, 'utf8')) as StateFile });
    } catch {
      // A torn write cannot happen (rename), so an unreadable file is foreign or damaged: skip it.
    }
  }
  return out;
}

/** Changes recorded by other runs that are still alive. */
export function readStateClaims(): { pid: number; change: Change }[] {
  return readStates()
    .filter(({ state }) => state.pid !== process.pid && isSameProcess(state.pid, state.startTime))
    .flatMap(({ state }) => state.changes.map((change) => ({ pid: state.pid, change })));
}

function isAlive(pid: number): boolean {
  const s = readProcStat(pid);
  return s !== null && s.state !== 'Z';
}

/**
 * Removes what runs killed without a chance to clean up left behind: the changes listed in state
 * files of dead owners, then any qdisc with our handle and any dnn-* namespace or link that no
 * living run claims. Returns one line per removed thing.
 */
export function cleanupLeftovers(): string[] {
  const removed: string[] = [];
  const claimed = new Set<string>();
  const claimKeys = (c: Change): string[] =>
    c.kind === 'qdisc' ? [`qdisc:${c.netns ?? ''}:${c.iface}`] : c.kind === 'process-group' ? [`pg:${c.pid}`] : c.kind === 'cgroup' ? c.dirs.map((d) => `cgroup:${d}`) : [`${c.kind}:${c.name}`];
  const claim = (c: Change) => claimKeys(c).forEach((k) => claimed.add(k));
  for (const e of entries) claim(e.change);
  for (const { path, state } of readStates()) {
    if (state.pid === process.pid) continue;
    if (isSameProcess(state.pid, state.startTime)) {
      for (const c of state.changes) claim(c);
      continue;
    }
    for (const c of [...state.changes].reverse()) {
      if (undoChange(c)) removed.push(describeChange(c));
    }
    rmSync(path, { force: true });
  }
  for (const iface of interfacesWithOurQdisc()) {
    const c: Change = { kind: 'qdisc', iface };
    // Runs record a qdisc before they install it, so an unclaimed one is a leftover whoever owns the link.
    if (claimed.has(claimKeys(c)[0]!)) continue;
    if (undoChange(c)) removed.push(describeChange(c));
  }
  for (const name of listNetns()) {
    const owner = ownerOfName(name);
    if (owner === null || isAlive(owner) || claimed.has(`netns:${name}`)) continue;
    if (undoChange({ kind: 'netns', name })) removed.push(describeChange({ kind: 'netns', name }));
  }
  for (const name of listLinks()) {
    const owner = ownerOfName(name);
    if (owner === null || isAlive(owner) || claimed.has(`link:${name}`)) continue;
    if (undoChange({ kind: 'link', name })) removed.push(describeChange({ kind: 'link', name }));
  }
  const cgroups = detectCgroups();
  if (isRoot() && 'layout' in cgroups) {
    // one cgroup is a directory per controller on v1: grouped by name
    const byName = new Map<string, string[]>();
    for (const dir of findOurCgroups(cgroups.layout)) {
      const name = dir.split('/').pop()!;
      const owner = ownerOfName(name);
      if (owner === null || isAlive(owner) || claimed.has(`cgroup:${dir}`)) continue;
      byName.set(name, [...(byName.get(name) ?? []), dir]);
    }
    for (const dirs of byName.values()) {
      try {
        if (undoChange({ kind: 'cgroup', dirs })) removed.push(describeChange({ kind: 'cgroup', dirs }));
      } catch (e) {
        process.stderr.write(`${(e as Error).message}\n`);
      }
    }
  }
  return removed;
}

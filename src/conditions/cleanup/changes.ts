import { isAlive, isRoot, isSameProcess } from '../proc.js';
import { detectCgroups, findOurCgroups, removeCgroup } from '../cgroup.js';
import { interfacesWithOurQdisc, listLinks, listNetns, nsArgs, rootQdisc, run } from './host-queries.js';
import { killProcessGroup } from './kill.js';
import { OUR_HANDLE, ownerOfName } from './names.js';
import type { Change, ChangeKindName } from './change.js';
import { readStateFile, removeStateFile, type StateFile } from './state-file.js';

/**
 * For each kind of change this package makes to the machine (change.ts), how to name it, undo it and
 * recognise it as a dead run's leftover. Adding a kind of change is one schema in change.ts and one
 * entry of `KINDS` below; the registry, state file and leftover sweep need nothing more.
 */
export type { Change, ChangeKindName } from './change.js';

/** What the clean-up needs to know about one kind of change. */
export interface ChangeKind<C extends Change> {
  /** What the change is, for the user ("network namespace dnn-3k-0"). */
  describe(c: C): string;
  /** Names the thing changed within its kind: records with one key are one thing (see claimKey). */
  key(c: C): string;
  /**
   * Reverses the change if it is still in place; true if something was removed. Synchronous: it runs
   * in 'exit'. `stillLeftover` (the sweep's): asked once the thing is seen in place, just before it
   * is removed, where a living run may have re-made it meanwhile (kinds whose names are fresh per
   * run never are, and may ignore it).
   */
  undo(c: C, stillLeftover?: () => boolean): boolean;
  /**
   * Things of this kind on the host that look like a run's leftovers, found without any state file
   * (our qdisc handle, a name whose owner pid is dead). The sweep spares those a living run claims.
   * Kinds that cannot be recognised on the host return [].
   */
  findLeftovers(): C[];
}

type ChangeOf<K extends ChangeKindName> = Extract<Change, { kind: K }>;

/** Names made by ownedName whose owner is no longer alive. */
const orphaned = (names: string[]) => names.filter((name) => {
  const owner = ownerOfName(name);
  return owner !== null && !isAlive(owner);
});

const KINDS: { [K in ChangeKindName]: ChangeKind<ChangeOf<K>> } = {
  qdisc: {
    describe: (c) => `qdisc ${OUR_HANDLE}: on ${c.iface}${c.netns ? ` (netns ${c.netns})` : ''}`,
    key: (c) => `${c.netns ?? ''}:${c.iface}`,
    undo(c, stillLeftover) {
      // Only our own qdisc: never delete shaping somebody else put there meanwhile.
      if (rootQdisc(c.iface, c.netns)?.handle !== OUR_HANDLE) return false;
      // asked after the look: a run that installs it records it first, so one seen here is claimed by now
      if (stillLeftover && !stillLeftover()) return false;
      return run('tc', [...nsArgs(c.netns), 'qdisc', 'del', 'dev', c.iface, 'root']).ok;
    },
    // Runs record a qdisc before they install it, so an unclaimed one is a leftover whoever owns the link.
    findLeftovers: () => interfacesWithOurQdisc().map((iface) => ({ kind: 'qdisc', iface })),
  },
  netns: {
    describe: (c) => `network namespace ${c.name}`,
    key: (c) => c.name,
    undo: (c) => listNetns().includes(c.name) && run('ip', ['netns', 'del', c.name]).ok,
    findLeftovers: () => orphaned(listNetns()).map((name) => ({ kind: 'netns', name })),
  },
  link: {
    describe: (c) => `link ${c.name}`,
    key: (c) => c.name,
    undo: (c) => listLinks().includes(c.name) && run('ip', ['link', 'del', c.name]).ok,
    findLeftovers: () => orphaned(listLinks()).map((name) => ({ kind: 'link', name })),
  },
  'process-group': {
    describe: (c) => `${c.what} (process group ${c.pid})`,
    key: (c) => String(c.pid),
    undo(c) {
      const result = killProcessGroup(c.pid, c.startTime, c.graceful);
      if (result === 'not-ours') return false;
      // whatever it recorded and could not undo (killed before it could) is undone here
      if (c.graceful) undoRecordedBy(c.pid, c.startTime);
      return result === 'killed';
    },
    // Stressor groups carry no name of ours: only a state file finds them.
    findLeftovers: () => [],
  },
  cgroup: {
    describe: (c) => `cgroup ${cgroupName(c)}`,
    key: cgroupName,
    // whatever still runs inside is ours (stressors of a killed run): removeCgroup ends it first
    undo(c) {
      try {
        return removeCgroup(c.dirs);
      } catch (e) {
        // something inside would not die in time: say so, the next run tries again
        process.stderr.write(`${(e as Error).message}\n`);
        return false;
      }
    },
    findLeftovers: () => {
      const found = isRoot() ? detectCgroups() : null;
      if (!found || !('layout' in found)) return [];
      // on v1 one cgroup is a directory per controller: grouped by name
      const byName = new Map<string, string[]>();
      for (const dir of findOurCgroups(found.layout)) byName.set(dir.split('/').pop()!, [...(byName.get(dir.split('/').pop()!) ?? []), dir]);
      return orphaned([...byName.keys()]).map((name) => ({ kind: 'cgroup', dirs: byName.get(name)! }));
    },
  },
};

function cgroupName(c: { dirs: string[] }): string {
  return c.dirs[0]!.split('/').pop()!;
}

/**
 * The kind of a change, or undefined for a kind this release does not know: state files are shared
 * by every run on the machine, and a newer release may record kinds an older one cannot undo.
 */
function kindOf<C extends Change>(c: C): ChangeKind<C> | undefined {
  return Object.hasOwn(KINDS, c.kind) ? (KINDS[c.kind] as unknown as ChangeKind<C>) : undefined;
}

export function isKnownChange(c: Change): boolean {
  return kindOf(c) !== undefined;
}

/** The one identity of a change: the registry, the state files and the sweep compare changes by it. */
export function claimKey(c: Change): string {
  return `${c.kind}:${kindOf(c)?.key(c) ?? JSON.stringify(c)}`;
}

export function describeChange(c: Change): string {
  return kindOf(c)?.describe(c) ?? `a '${String(c.kind)}' change (recorded by another release of this tool)`;
}

/** Reverses one change if it is still in place. Returns true if something was removed; false for kinds this release does not know. */
export function undoChange(c: Change, stillLeftover?: () => boolean): boolean {
  return kindOf(c)?.undo(c, stillLeftover) ?? false;
}

/** Leftovers of every kind found on the host, claimed or not, in the order of KINDS. */
export function findLeftovers(): Change[] {
  return (Object.values(KINDS) as ChangeKind<Change>[]).flatMap((k) => k.findLeftovers());
}

/**
 * Undoes, newest first, the changes a dead run recorded, then removes its state file, unless it lists
 * a kind this release does not know (a newer release can still undo that). One line per removed thing.
 */
export function undoRecorded(path: string, state: StateFile): string[] {
  const removed: string[] = [];
  for (const c of [...state.changes].reverse()) {
    if (undoChange(c)) removed.push(describeChange(c));
  }
  if (state.changes.every(isKnownChange)) removeStateFile(path);
  return removed;
}

/** Undoes what a process that is now dead recorded in its state file (if any). */
function undoRecordedBy(pid: number, startTime: number): void {
  const found = readStateFile(pid);
  if (!found || found.state.startTime !== startTime || isSameProcess(pid, startTime)) return;
  undoRecorded(found.path, found.state);
}

import { isAlive, isSameProcess } from '../proc.js';
import { interfacesWithOurQdisc, listLinks, listNetns, nsArgs, rootQdisc, run } from './host-queries.js';
import { killProcessGroup } from './kill.js';
import { OUR_HANDLE, ownerOfName } from './names.js';
import { readStateFile, removeStateFile, type StateFile } from './state-file.js';

/**
 * The kinds of change this package makes to the machine, and for each how to name it, undo it and
 * recognise it as a dead run's leftover. Adding a kind of change is one member of `Change` and one
 * entry of `KINDS` below; the registry, state file and leftover sweep need nothing more.
 */
export type Change =
  | { kind: 'qdisc'; iface: string; netns?: string }
  | { kind: 'netns'; name: string }
  | { kind: 'link'; name: string }
  /** graceful: a process of ours that cleans up after itself (the lab's cloud): SIGTERM first */
  | { kind: 'process-group'; pid: number; startTime: number; what: string; graceful?: boolean };

export type ChangeKindName = Change['kind'];

/** What the clean-up needs to know about one kind of change. */
export interface ChangeKind<C extends Change> {
  /** What the change is, for the user ("network namespace dnn-3k-0"). */
  describe(c: C): string;
  /** Names the thing changed within its kind: records with one key are one thing (see claimKey). */
  key(c: C): string;
  /** Reverses the change if it is still in place; true if something was removed. Synchronous: it runs in 'exit'. */
  undo(c: C): boolean;
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
    undo(c) {
      // Only our own qdisc: never delete shaping somebody else put there meanwhile.
      if (rootQdisc(c.iface, c.netns)?.handle !== OUR_HANDLE) return false;
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
};

function kindOf<C extends Change>(c: C): ChangeKind<C> {
  return KINDS[c.kind] as unknown as ChangeKind<C>;
}

/** The one identity of a change: the registry, the state files and the sweep compare changes by it. */
export function claimKey(c: Change): string {
  // a live run of another version of the tool may record kinds this one does not know
  if (!(c.kind in KINDS)) return `${c.kind}:${JSON.stringify(c)}`;
  return `${c.kind}:${kindOf(c).key(c)}`;
}

export function describeChange(c: Change): string {
  return kindOf(c).describe(c);
}

/** Reverses one change if it is still in place. Returns true if something was removed. */
export function undoChange(c: Change): boolean {
  return kindOf(c).undo(c);
}

/** Leftovers of every kind found on the host, claimed or not, in the order of KINDS. */
export function findLeftovers(): Change[] {
  return (Object.values(KINDS) as ChangeKind<Change>[]).flatMap((k) => k.findLeftovers());
}

/** Undoes, newest first, the changes a dead run recorded, then removes its state file. One line per removed thing. */
export function undoRecorded(path: string, state: StateFile): string[] {
  const removed: string[] = [];
  for (const c of [...state.changes].reverse()) {
    if (undoChange(c)) removed.push(describeChange(c));
  }
  removeStateFile(path);
  return removed;
}

/** Undoes what a process that is now dead recorded in its state file (if any). */
function undoRecordedBy(pid: number, startTime: number): void {
  const found = readStateFile(pid);
  if (!found || found.state.startTime !== startTime || isSameProcess(pid, startTime)) return;
  undoRecorded(found.path, found.state);
}

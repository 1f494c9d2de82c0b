import { ownStartTime } from '../proc.js';
import { describeChange, undoChange, type Change } from './changes.js';
import { undoOnEveryExit } from './signals.js';
import { writeStateFile } from './state-file.js';

/**
 * The changes this process has made to the machine and not yet undone, mirrored in its state file
 * and undone on every exit path (newest first).
 */

const entries: { change: Change }[] = [];
const myStartTime = ownStartTime();

export interface Registration {
  /** Undoes the change now (if not yet undone) and forgets it. */
  undo(): void;
  /** Forgets the change without undoing it (the caller undid it some other way). */
  release(): void;
}

function persist(): void {
  writeStateFile({ pid: process.pid, startTime: myStartTime, changes: registeredChanges() });
}

/**
 * Records a change before it is made (so that a kill between the two still leaves a record)
 * and undoes it on exit unless undo()/release() ran first.
 */
export function registerChange(change: Change): Registration {
  undoOnEveryExit(undoAll);
  const entry = { change };
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

/** This process's changes not yet undone, oldest first. */
export function registeredChanges(): Change[] {
  return entries.map((e) => e.change);
}

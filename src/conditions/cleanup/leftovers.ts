import { isSameProcess } from '../proc.js';
import { claimKey, describeChange, findLeftovers, undoChange, undoRecorded } from './changes.js';
import { registeredChanges } from './registry.js';
import { readStateFiles } from './state-file.js';

/**
 * Removes what runs killed without a chance to clean up left behind: the changes listed in state
 * files of dead owners, then whatever each kind of change recognises on the host as a leftover
 * (a qdisc with our handle, a dnn-* namespace or link of a dead owner) that no living run claims.
 * Returns one line per removed thing.
 */
export function cleanupLeftovers(): string[] {
  const removed: string[] = [];
  const claimed = new Set(registeredChanges().map(claimKey));
  for (const { path, state } of readStateFiles()) {
    if (state.pid === process.pid) continue;
    if (isSameProcess(state.pid, state.startTime)) {
      for (const c of state.changes) claimed.add(claimKey(c));
      continue;
    }
    removed.push(...undoRecorded(path, state));
  }
  for (const c of findLeftovers()) {
    if (claimed.has(claimKey(c))) continue;
    if (undoChange(c)) removed.push(describeChange(c));
  }
  return removed;
}

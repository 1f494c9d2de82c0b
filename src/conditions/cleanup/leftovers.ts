import { isSameProcess } from '../proc.js';
import { claimKey, describeChange, findLeftovers, undoChange, undoRecorded } from './changes.js';
import { registeredChanges } from './registry.js';
import { readStateFiles } from './state-file.js';

/**
 * Removes what runs killed without a chance to clean up left behind: the changes listed in state
 * files of dead owners, then whatever each kind of change recognises on the host as a leftover
 * (a qdisc with our handle, a dnn-* namespace or link of a dead owner) that no living run claims.
 * Returns one line per removed thing.
 *
 * Living runs make and remove changes while this runs (a lab's trace replay re-installs its qdisc
 * for every policy). They record a change before making it and forget it after removing it, so the
 * host is looked at BEFORE the claims are read, and an unclaimed find is checked against the claims
 * once more after it is seen still in place, just before it is removed: claims read first let a
 * qdisc recorded and installed in between look unclaimed, and the sweep deleted a living lab's
 * shaping under it (what remains is a run removing and re-making it within the one tc call that
 * removes it).
 */
export function cleanupLeftovers(): string[] {
  const found = findLeftovers();
  const removed: string[] = [];
  const claims = livingClaims();
  for (const { path, state } of claims.dead) removed.push(...undoRecorded(path, state));
  for (const c of found) {
    if (claims.claimed.has(claimKey(c))) continue;
    if (undoChange(c, () => !livingClaims().claimed.has(claimKey(c)))) removed.push(describeChange(c));
  }
  return removed;
}

type StateFiles = ReturnType<typeof readStateFiles>;

/** What living runs (this one included) claim now, and the state files of dead ones. */
function livingClaims(): { claimed: Set<string>; dead: StateFiles } {
  const claimed = new Set(registeredChanges().map(claimKey));
  const dead: StateFiles = [];
  for (const file of readStateFiles()) {
    if (file.state.pid === process.pid) continue;
    if (isSameProcess(file.state.pid, file.state.startTime)) for (const c of file.state.changes) claimed.add(claimKey(c));
    else dead.push(file);
  }
  return { claimed, dead };
}

/**
 * What a run killed with -9 left behind goes first (our qdiscs, namespaces, stressors), each removal
 * logged. A killed lab end's own stressors are listed in its state file: a second pass finds them.
 */
export async function removeLeftovers(log: (line: string) => void): Promise<void> {
  for (let pass = 0; pass < 3; pass++) {
    const removed = cleanupLeftovers();
    for (const line of removed) log(`removed what a killed run left: ${line}`);
    if (!removed.some((l) => /process group/.test(l))) break;
    await new Promise((r) => setTimeout(r, 300));
  }
}

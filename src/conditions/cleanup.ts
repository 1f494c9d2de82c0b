/**
 * Everything this package changes on the machine, undone on every exit path, and the sweep that
 * undoes what a SIGKILLed run left behind. This file is the public face of cleanup/:
 *   change.ts        the kinds of change as recorded: one schema each (the Change type derives from them)
 *   changes.ts       per kind: describe, key, undo, recognise a leftover; a new kind is a schema in
 *                    change.ts and an entry there
 *   registry.ts      record a change before making it; undo all on exit
 *   signals.ts       the exit paths (exit, crash, SIGINT/SIGTERM/SIGHUP) that run the undo; what a
 *                    process says or does on a signal goes through onExitSignal
 *   state-file.ts    the per-process state file a later run reads (its schema, checked on read)
 *   host-queries.ts  qdiscs, links and namespaces as tc and ip report them
 *   kill.ts          killing a process group of ours (never a pid's new owner)
 *   leftovers.ts     the sweep
 *   names.ts         the names and qdisc handle that mark things as ours
 */
export { claimKey, describeChange, undoChange, type Change, type ChangeKind } from './cleanup/changes.js';
export { interfacesWithOurQdisc, listLinks, listNetns, nsArgs, rootQdisc } from './cleanup/host-queries.js';
export { cleanupLeftovers, removeLeftovers } from './cleanup/leftovers.js';
export { NAME_PREFIX, OUR_CHILD_HANDLE, OUR_HANDLE, ownedName, ownerOfName } from './cleanup/names.js';
export { registerChange, undoAll, type Registration } from './cleanup/registry.js';
export { onExitSignal } from './cleanup/signals.js';
export { readStateClaims, stateDir } from './cleanup/state-file.js';

/**
 * The names and handles this tool gives what it makes on the machine, so that a later run can
 * recognise its leftovers (and its owner) from the host alone.
 */

/** Root qdisc handle (major, hex) of every qdisc this tool installs; its child uses OUR_CHILD_HANDLE. */
export const OUR_HANDLE = 'd1e';
export const OUR_CHILD_HANDLE = 'd1f';
/** Prefix of namespace and link names; the owner's pid follows in base 36: dnn-<pid36>-<n><side>. */
export const NAME_PREFIX = 'dnn-';

let nameCounter = 0;

/** A fresh name for a namespace owned by this process; one more letter makes a link name (≤ 15 characters). */
export function ownedName(): string {
  return `${NAME_PREFIX}${process.pid.toString(36)}-${(nameCounter++).toString(36)}`;
}

/** The pid encoded in a name made by ownedName (with or without a letter appended), or null for names this tool did not make. */
export function ownerOfName(name: string): number | null {
  const m = /^dnn-([0-9a-z]+)-[0-9a-z]+$/.exec(name);
  return m ? parseInt(m[1]!, 36) : null;
}

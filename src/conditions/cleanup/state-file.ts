import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot, isSameProcess } from '../proc.js';
import { type Static, Type } from '@sinclair/typebox';
import { errorMessage } from '../../errors.js';
import { FormatError, checker } from '../../formats/check.js';
import { CHANGE_SCHEMAS, type Change } from './change.js';

/**
 * One JSON file per running process listing its changes to the machine, rewritten (atomically) on
 * every change, so that the next run can undo what a SIGKILLed run left behind.
 */
export const STATE_FORMAT = 1;

export const StateFileSchema = Type.Object({
  format: Type.Optional(Type.Integer({ minimum: 1, maximum: STATE_FORMAT, description: 'version of the state file format (absent: 1)' })),
  pid: Type.Integer({ minimum: 1, description: 'the process that made the changes' }),
  startTime: Type.Number({ description: 'its start time: with the pid, names the process for ever (pids get reused)' }),
  changes: Type.Array(Type.Object({ kind: Type.String({ description: 'the kind of change; its other fields are those of the kind' }) }), {
    description: 'its changes, oldest first; a kind this release does not know (a newer release recorded it) is kept for that release',
  }),
});

/** A state file as read: changes of kinds this release knows are checked against their kind's schema. */
export type StateFile = Omit<Static<typeof StateFileSchema>, 'changes'> & { changes: Change[] };

const stateChecker = checker({
  what: 'state file',
  schema: StateFileSchema,
  format: STATE_FORMAT,
  fix: 'it was not written by this tool: remove it once nothing it lists is left on the machine',
});
const changeCheckers = new Map(Object.entries(CHANGE_SCHEMAS).map(([k, schema]) => [k, checker({ ...stateChecker.kind, schema })]));

/** A state file's text, checked; a FormatError names the file, the field, what was expected and what was found. */
export function parseStateFile(text: string, path: string): StateFile {
  const where = `${path}:1`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new FormatError(`${where}: state file is not JSON (${errorMessage(e)}); ${stateChecker.kind.fix}`);
  }
  const state = stateChecker.check(value, where);
  state.changes.forEach((c, i) => changeCheckers.get(c.kind)?.check(c, where, `changes.${i}`));
  return state as StateFile;
}

export function stateDir(): string {
  return isRoot() ? '/run/dnn-partition-bench' : join(tmpdir(), `dnn-partition-bench-${process.getuid?.() ?? 0}`);
}

export function stateFilePath(pid = process.pid): string {
  return join(stateDir(), `state-${pid}.json`);
}

/** Writes this process's state file, or removes it when there is nothing to undo. */
export function writeStateFile(state: StateFile): void {
  const path = stateFilePath(state.pid);
  if (state.changes.length === 0) {
    rmSync(path, { force: true });
    return;
  }
  const dir = stateDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Write, fsync, rename, fsync the directory: after a crash the file is either old or new, never torn.
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeFileSync(fd, JSON.stringify({ format: STATE_FORMAT, pid: state.pid, startTime: state.startTime, changes: state.changes }));
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

export function removeStateFile(path: string): void {
  rmSync(path, { force: true });
}

/** The state file of one process, or null if it has none (or an unreadable one). */
export function readStateFile(pid: number): { path: string; state: StateFile } | null {
  const path = stateFilePath(pid);
  const state = parse(path);
  return state ? { path, state } : null;
}

/**
 * A state file, or null when it cannot be used: unreadable, damaged, or of a newer format. Such a
 * file is left in place with a note, never a crash: state files are shared by every run on the
 * machine and a newer release may still undo what it lists.
 */
const noted = new Set<string>();

function parse(path: string): StateFile | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null; // gone meanwhile (its run ended), or not ours to read
  }
  try {
    return parseStateFile(text, path);
  } catch (e) {
    // A torn write cannot happen (rename), so the file is foreign, damaged or newer: skip it (said once per process).
    if (!noted.has(path)) process.stderr.write(`note: ${errorMessage(e)} (left alone)\n`);
    noted.add(path);
    return null;
  }
}

/** Every readable state file in the state directory, this process's included. */
export function readStateFiles(): { path: string; state: StateFile }[] {
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
    const state = parse(path);
    if (state) out.push({ path, state });
  }
  return out;
}

/** Changes recorded by other runs that are still alive. */
export function readStateClaims(): { pid: number; change: Change }[] {
  return readStateFiles()
    .filter(({ state }) => state.pid !== process.pid && isSameProcess(state.pid, state.startTime))
    .flatMap(({ state }) => state.changes.map((change) => ({ pid: state.pid, change })));
}

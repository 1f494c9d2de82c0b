import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot, isSameProcess } from '../proc.js';
import type { Change } from './changes.js';

/**
 * One JSON file per running process listing its changes to the machine, rewritten (atomically) on
 * every change, so that the next run can undo what a SIGKILLed run left behind.
 */
export interface StateFile {
  pid: number;
  /** With the pid, names the process for ever (pids get reused). */
  startTime: number;
  changes: Change[];
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

export function removeStateFile(path: string): void {
  rmSync(path, { force: true });
}

/** The state file of one process, or null if it has none (or an unreadable one). */
export function readStateFile(pid: number): { path: string; state: StateFile } | null {
  const path = stateFilePath(pid);
  const state = parse(path);
  return state ? { path, state } : null;
}

function parse(path: string): StateFile | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as StateFile;
  } catch {
    // A torn write cannot happen (rename), so an unreadable file is foreign or damaged: skip it.
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

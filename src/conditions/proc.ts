import { readFileSync, readdirSync } from 'node:fs';

/** The fields of /proc/<pid>/stat this package needs. Times are in clock ticks, rss in pages. */
export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  cpuTicks: number; // utime + stime + cutime + cstime: reaped children's time counts too
  startTime: number; // ticks since boot; with the pid it names one process for ever
  rssPages: number;
}

/** Linux's USER_HZ; it has been 100 on every mainstream architecture for decades. */
export const CLOCK_TICKS_PER_SECOND = 100;
export const PAGE_SIZE = 4096;

export function readProcStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm may hold spaces and parentheses: the fields start after the last ')'.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text.slice(close + 2).trim().split(' ');
  // f[0] is field 3 (state) of proc(5).
  const n = (field: number) => Number(f[field - 3]);
  return {
    pid,
    comm,
    state: f[0] ?? '?',
    ppid: n(4),
    pgrp: n(5),
    cpuTicks: n(14) + n(15) + n(16) + n(17),
    startTime: n(22),
    rssPages: n(24),
  };
}

/** The process with this pid, if it is still the one that started at startTime (pids get reused). */
export function isSameProcess(pid: number, startTime: number): boolean {
  const s = readProcStat(pid);
  return s !== null && s.startTime === startTime && s.state !== 'Z';
}

export function ownStartTime(): number {
  return readProcStat(process.pid)?.startTime ?? 0;
}

/** Live (non-zombie) processes whose process group is pgid. */
export function processGroup(pgid: number): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readProcStat(Number(name));
    if (s && s.pgrp === pgid && s.state !== 'Z') out.push(s);
  }
  return out;
}

export function isRoot(): boolean {
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}

/** Whether any living (non-zombie) process has this pid, whoever it is. */
export function isAlive(pid: number): boolean {
  const s = readProcStat(pid);
  return s !== null && s.state !== 'Z';
}

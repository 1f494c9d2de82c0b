import { basename } from 'node:path';
import { type TSchema, Type } from '@sinclair/typebox';
import { UserError } from '../errors.js';
import { checker } from '../formats/check.js';
import { NO_CONDITION, conditionKey, type Condition } from './condition.js';
import { FACTORS } from './factors.js';
import { parseConditionLine, readInputFile } from './grid.js';

/**
 * Condition traces: a timeline of conditions replayed on the link and the stressors instead of a
 * grid. Three formats, told apart by their lines:
 *  - two columns `time_s rate_mbit` (adaptive-streaming bandwidth traces, e.g. the Norway 3G set);
 *  - Mahimahi delivery traces: one integer millisecond timestamp per 1500-byte delivery opportunity;
 *  - the tool's own lines `t=12.5;net=10;delay=20;ecpu=50`: any factor may change, factors not
 *    named keep their value from the line before (the first line starts from no shaping, no stress);
 *    `dnet=` is the three-tier device link's rate (--tiers 3).
 * The first two carry one rate: the edge->cloud link's (`net`), or with --tiers 3 --trace-link device
 * the device link's (`dnet`, traceOnLink).
 * Times are relative to the first line. `#` starts a comment. Pure functions, errors name file:line.
 *
 * Traces are written by people and other tools (the Norway set, Mahimahi), so they carry no format
 * number; each format's line has a schema (below), the one definition the parser checks every line
 * against and docs/results-format.md documents.
 */
export type TraceFormat = 'two-column' | 'mahimahi' | 'tags';

export interface TraceStep {
  /** ms from the start of the trace */
  atMs: number;
  condition: Condition;
}

export interface Trace {
  /** file name without directories, for tags and reports */
  name: string;
  format: TraceFormat;
  /** in time order; the first at 0 ms */
  steps: TraceStep[];
  /** length of one pass: the last step lasts as long as the step before it (Mahimahi: the last timestamp) */
  lengthMs: number;
}

const SECONDS = "time {got} s is not a non-negative number of seconds";

export const TRACE_LINE_SCHEMAS = {
  'two-column': Type.Object({
    time_s: Type.Number({ minimum: 0, errorMessage: SECONDS, description: 'seconds; the first line is time 0 of the trace, times must increase' }),
    rate_mbit: Type.Number({
      exclusiveMinimum: 0,
      errorMessage: 'rate {got} Mbit/s is not above 0; a shaped link needs a positive rate (drop the line or raise it)',
      description: 'link rate from this time on, Mbit/s',
    }),
  }),
  mahimahi: Type.Object({
    ms: Type.Integer({ minimum: 0, description: 'a delivery opportunity: one 1500-byte packet may leave at this millisecond; timestamps must not decrease' }),
  }),
  tags: Type.Object({
    t: Type.Number({ minimum: 0, errorMessage: "t {got} is not a non-negative number of seconds", description: 'seconds; the first line is time 0, times must increase' }),
    // every factor; the three-tier device link (dnet, optional) is replayed with --tiers 3 only (the CLI refuses it otherwise)
    ...Object.fromEntries(FACTORS.map((f) => [f.key, Type.Optional(factorSchema(f))])),
  }),
};

/** A factor's level on a tag line: its range from factors.ts; `none` where the factor allows it. */
function factorSchema(f: (typeof FACTORS)[number]): TSchema {
  const range = { minimum: 'minExclusive' in f ? undefined : f.min, exclusiveMinimum: 'minExclusive' in f ? f.min : undefined, maximum: f.max };
  const level = f.integer ? Type.Integer(range) : Type.Number(range);
  const description = `${f.label}${'allowNone' in f ? '; none = not shaped' : ''}; a factor not named keeps its value from the line before`;
  return 'allowNone' in f ? Type.Union([level, Type.Null()], { description }) : { ...level, description };
}

const lineChecker = (format: TraceFormat) => checker({ what: `${format} trace line`, schema: TRACE_LINE_SCHEMAS[format] as TSchema, fix: 'fix the line' });
const lineCheckers = { 'two-column': lineChecker('two-column'), mahimahi: lineChecker('mahimahi'), tags: lineChecker('tags') };

/** Mahimahi: one delivery opportunity = one MTU-sized packet. */
const MAHIMAHI_PACKET_BYTES = 1500;
/** Mahimahi opportunities are counted over bins of this length to give a rate. */
export const MAHIMAHI_BIN_MS = 1000;

/** Detects the format from the first data line. */
export function detectFormat(lines: string[]): TraceFormat | undefined {
  for (const raw of lines) {
    const line = stripComment(raw);
    if (line === '') continue;
    if (/(^|;)\s*t\s*=/.test(line)) return 'tags';
    if (/^\d+$/.test(line)) return 'mahimahi';
    return 'two-column';
  }
  return undefined;
}

export function parseTrace(text: string, file: string): Trace {
  const lines = text.split(/\r?\n/);
  const format = detectFormat(lines);
  if (!format) throw new UserError(`${file}: the trace has no data lines; write 'time_s rate_mbit' lines, Mahimahi timestamps, or t=0;net=10 lines`);
  const parsed = format === 'tags' ? parseTagLines(lines, file) : format === 'mahimahi' ? parseMahimahi(lines, file) : parseTwoColumn(lines, file);
  return { name: basename(file), format, ...parsed };
}

export function readTrace(path: string): Trace {
  return parseTrace(readInputFile(path, '--trace'), path);
}

function stripComment(raw: string): string {
  return raw.replace(/#.*/, '').trim();
}

function parseTwoColumn(lines: string[], file: string): Pick<Trace, 'steps' | 'lengthMs'> {
  const points: { t: number; rate: number; line: number }[] = [];
  lines.forEach((raw, i) => {
    const line = stripComment(raw);
    if (line === '') return;
    const where = `${file}:${i + 1}`;
    const cols = line.split(/[\s,]+/);
    if (cols.length !== 2) throw new UserError(`${where}: '${line}' has ${cols.length} columns; a two-column trace has 'time_s rate_mbit' per line`);
    const [t, rate] = cols.map(Number) as [number, number];
    if (!Number.isFinite(t)) throw new UserError(`${where}: time '${cols[0]}' is not a non-negative number of seconds`);
    if (!Number.isFinite(rate)) throw new UserError(`${where}: rate '${cols[1]}' is not a number of Mbit/s`);
    lineCheckers['two-column'].check({ time_s: t, rate_mbit: rate }, where);
    checkIncreasing(points.at(-1)?.t, t, where, 's');
    points.push({ t, rate, line: i + 1 });
  });
  if (points.length < 2) throw new UserError(`${file}: the trace is shorter than one step (${points.length} line); a two-column trace needs at least two timestamps`);
  const t0 = points[0]!.t;
  const steps = points.map((p) => ({ atMs: (p.t - t0) * 1000, condition: { ...NO_CONDITION, net: p.rate } }));
  return { steps, lengthMs: lastStepEnd(steps) };
}

function parseMahimahi(lines: string[], file: string): Pick<Trace, 'steps' | 'lengthMs'> {
  const stamps: number[] = [];
  lines.forEach((raw, i) => {
    const line = stripComment(raw);
    if (line === '') return;
    const where = `${file}:${i + 1}`;
    if (!/^\d+$/.test(line)) throw new UserError(`${where}: '${line}' is not a millisecond timestamp; a Mahimahi trace has one integer per line`);
    const ms = Number(line);
    lineCheckers.mahimahi.check({ ms }, where);
    const prev = stamps.at(-1);
    if (prev !== undefined && ms < prev) throw new UserError(`${where}: timestamp ${ms} ms is earlier than the line before (${prev} ms); timestamps must not decrease`);
    stamps.push(ms);
  });
  // Mahimahi repeats the file with a period of the last timestamp.
  const lengthMs = stamps.at(-1)!;
  if (lengthMs < MAHIMAHI_BIN_MS) {
    throw new UserError(`${file}: the trace is shorter than one step (${lengthMs} ms of deliveries); rates are counted over ${MAHIMAHI_BIN_MS} ms, give at least that much`);
  }
  const bins = Math.ceil(lengthMs / MAHIMAHI_BIN_MS);
  const counts = new Array<number>(bins).fill(0);
  for (const ms of stamps) counts[Math.min(bins - 1, Math.floor(ms / MAHIMAHI_BIN_MS))]!++;
  // A bin without deliveries cannot be a tc rate: it joins the next one (the rate over both).
  const steps: TraceStep[] = [];
  let start = 0;
  let pending = 0;
  for (let b = 0; b < bins; b++) {
    pending += counts[b]!;
    if (pending === 0 && b < bins - 1) continue;
    const end = Math.min(lengthMs, (b + 1) * MAHIMAHI_BIN_MS);
    const mbit = (pending * MAHIMAHI_PACKET_BYTES * 8) / ((end - start) / 1000) / 1e6;
    if (pending > 0) steps.push({ atMs: start, condition: { ...NO_CONDITION, net: roundRate(mbit) } });
    start = end;
    pending = 0;
  }
  return { steps, lengthMs };
}

function parseTagLines(lines: string[], file: string): Pick<Trace, 'steps' | 'lengthMs'> {
  const raw: { t: number; condition: Condition }[] = [];
  let current: Condition = { ...NO_CONDITION };
  lines.forEach((text, i) => {
    const line = stripComment(text);
    if (line === '') return;
    const where = `${file}:${i + 1}`;
    const { condition, extra } = parseConditionLine(line, where, current, ['t']);
    const tText = extra.get('t');
    if (tText === undefined) throw new UserError(`${where}: no t= on the line; every line of a tag trace starts with its time, e.g. t=12.5;net=10`);
    const t = Number(tText);
    if (tText === '' || !Number.isFinite(t)) throw new UserError(`${where}: t '${tText}' is not a non-negative number of seconds`);
    lineCheckers.tags.check({ t, ...Object.fromEntries([...given(line)].map((k) => [k, condition[k as keyof Condition]])) }, where);
    checkIncreasing(raw.at(-1)?.t, t, where, 's');
    raw.push({ t, condition });
    current = condition;
  });
  if (raw.length < 2) throw new UserError(`${file}: the trace is shorter than one step (${raw.length} line); give at least two timed lines (the last one's length is taken from the step before it)`);
  const t0 = raw[0]!.t;
  const steps = raw.map((r) => ({ atMs: (r.t - t0) * 1000, condition: r.condition }));
  return { steps, lengthMs: lastStepEnd(steps) };
}

/** The factor keys a tag line names. */
function given(line: string): Set<string> {
  return new Set(line.split(';').map((part) => part.slice(0, part.indexOf('=')).trim()).filter((k) => k !== '' && k !== 't'));
}

function checkIncreasing(prev: number | undefined, t: number, where: string, unit: string): void {
  if (prev !== undefined && t <= prev) throw new UserError(`${where}: time ${t} ${unit} does not come after the line before (${prev} ${unit}); times must increase`);
}

/** The last step lasts as long as the one before it. */
function lastStepEnd(steps: TraceStep[]): number {
  const n = steps.length;
  return steps[n - 1]!.atMs + (steps[n - 1]!.atMs - steps[n - 2]!.atMs);
}

/** Rates to 1 kbit/s: finer than tc's own rate tables matter. */
function roundRate(mbit: number): number {
  return Math.max(0.001, Math.round(mbit * 1000) / 1000);
}

export interface ReplayOptions {
  /** multiplies every rate (--trace-scale) */
  scale?: number;
  /** repeat the trace until `durationMs` (--trace-loop) */
  loop?: boolean;
  /** replay only this long (--duration); default: one pass */
  durationMs?: number;
}

/** What is replayed: the steps in [0, lengthMs), scaled and looped, with merged repeats. */
export interface Schedule {
  trace: string;
  steps: TraceStep[];
  lengthMs: number;
}

export function scheduleOf(trace: Trace, o: ReplayOptions = {}): Schedule {
  const scale = o.scale ?? 1;
  if (!(scale > 0) || !Number.isFinite(scale)) throw new UserError(`--trace-scale must be a number above 0, got ${scale}`);
  let lengthMs = o.durationMs ?? trace.lengthMs;
  if (!(lengthMs > 0)) throw new UserError(`--duration must be above 0 s, got ${lengthMs / 1000}`);
  const firstStep = trace.steps.length > 1 ? trace.steps[1]!.atMs : trace.lengthMs;
  if (lengthMs < firstStep) {
    throw new UserError(`--duration ${lengthMs / 1000} s is shorter than one step of ${trace.name} (${firstStep / 1000} s); replay at least one step`);
  }
  if (!o.loop) lengthMs = Math.min(lengthMs, trace.lengthMs);
  const steps: TraceStep[] = [];
  for (let offset = 0; offset < lengthMs; offset += trace.lengthMs) {
    for (const s of trace.steps) {
      const atMs = offset + s.atMs;
      if (atMs >= lengthMs) break;
      const condition = { ...s.condition, net: scaled(s.condition.net, scale), dnet: scaled(s.condition.dnet, scale) };
      // Equal neighbours are one step: nothing to change on the link.
      if (steps.length && conditionKey(steps.at(-1)!.condition) === conditionKey(condition)) continue;
      steps.push({ atMs, condition });
    }
    if (!o.loop) break;
  }
  return { trace: trace.name, steps, lengthMs };
}

function scaled(rate: number | null, scale: number): number | null {
  return rate === null || rate === undefined ? null : roundRate(rate * scale);
}

/** The links a trace shapes: `edge` (edge->cloud: net, delay, jitter, loss) and, with --tiers 3, `device` (device->edge: dnet). */
export type TraceLink = 'edge' | 'device';

/** Whether a trace sets the three-tier device link's rate at some step (it then needs --tiers 3). */
export function namesDeviceLink(trace: Pick<Trace, 'steps'>): boolean {
  return trace.steps.some((s) => s.condition.dnet !== null);
}

/**
 * A one-rate trace (two-column, Mahimahi) as the given link's timeline: `edge` leaves it as parsed
 * (net); `device` moves each step's rate to the device link (dnet), the edge link left unshaped.
 */
export function traceOnLink(trace: Trace, link: TraceLink): Trace {
  if (link === 'edge') return trace;
  if (trace.format === 'tags') throw new Error('bug: a tag trace names its links itself (dnet=, net=)');
  return { ...trace, steps: trace.steps.map((s) => ({ atMs: s.atMs, condition: { ...NO_CONDITION, dnet: s.condition.net } })) };
}

/**
 * A three-tier replay's timeline of one link, or null when the trace leaves that link unshaped at
 * every step: `device` the device link's rate (dnet) as a link condition; `edge` the edge->cloud
 * link's (net, delay, jitter, loss). Steps keep their index and time (a slot's piece of either is
 * cut alike). A link shaped at some steps and not at others is refused: tc cannot leave a rate
 * mid-replay.
 */
export function linkSchedule(s: Schedule, link: TraceLink): Schedule | null {
  const rate = (c: Condition) => (link === 'device' ? c.dnet : c.net);
  const unshaped = s.steps.filter((step) => rate(step.condition) === null);
  if (unshaped.length === s.steps.length) return null;
  if (unshaped.length) {
    const key = link === 'device' ? 'dnet' : 'net';
    throw new UserError(`trace ${s.trace}: the step at ${unshaped[0]!.atMs / 1000} s leaves the ${link === 'device' ? 'device' : 'edge->cloud'} link unshaped (${key}=none) while others shape it; give ${key}= at every step or at none`);
  }
  return { ...s, steps: s.steps.map((step) => ({ atMs: step.atMs, condition: link === 'device' ? { ...NO_CONDITION, net: step.condition.dnet } : { ...step.condition, dnet: null } })) };
}

/** The links a schedule shapes (the others stay unshaped); a one-line UserError when it shapes neither. */
export function replayedLinks(s: Schedule): { link: TraceLink; schedule: Schedule }[] {
  const out = (['device', 'edge'] as const).flatMap((link) => {
    const schedule = linkSchedule(s, link);
    return schedule ? [{ link, schedule }] : [];
  });
  if (out.length === 0) throw new UserError(`trace ${s.trace} shapes neither link: give net= (edge->cloud) and/or dnet= (device->edge) rates, or a two-column/Mahimahi trace with --trace-link`);
  return out;
}

/** The index of the step in force at `ms` after the start (the last that began at or before it; the first before any). */
export function stepIndexAt(s: Schedule, ms: number): number {
  let lo = 0;
  let hi = s.steps.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (s.steps[mid]!.atMs <= ms) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The condition in force at `ms` after the start (the last step that began at or before it). */
export function conditionAt(s: Schedule, ms: number): Condition {
  return s.steps[stepIndexAt(s, ms)]!.condition;
}

/** Time-weighted mean rate of a schedule (unshaped steps left out), for static:auto's "best at the mean rate". */
export function meanRate(s: Schedule): number | null {
  let sum = 0;
  let time = 0;
  s.steps.forEach((step, i) => {
    const end = i + 1 < s.steps.length ? s.steps[i + 1]!.atMs : s.lengthMs;
    if (step.condition.net === null) return;
    sum += step.condition.net * (end - step.atMs);
    time += end - step.atMs;
  });
  return time > 0 ? sum / time : null;
}

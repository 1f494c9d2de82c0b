import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Histogram } from 'hdr-histogram-js';
import { UserError, errorMessage } from '../errors.js';
import { META_PREFIX, type RunMetadata, checkRunMetadata } from './metadata.js';
import { type CellTag, type Metric, METRICS, parseTag, tagCellKey } from './tags.js';
import { FRAME_PREFIX, STREAM_PREFIX, type FrameLine, type StreamLine, frameLineChecker, streamLineChecker } from './stream-lines.js';
import { RACED_PREFIX, type RacedLine, racedLineChecker } from './raced-lines.js';
import { APPLIED_PREFIX, REQUEST_PREFIX, type IntervalLine, decodeHistogram, isGzip, isLegend, newLatencyHistogram, splitIntervalLine, tagSafe, timeBaseSec, timeComment } from './log-lines.js';

export interface ResultCell {
  tag: CellTag;
  histogram: Histogram;
  /** interval of the cell's measurement, ms since the epoch */
  startMs: number;
  endMs: number;
  /** a cell a raced sweep stopped sampling early: its `#dnn-raced` line (the histogram holds its samples, fewer than --reps) */
  raced?: RacedLine;
}

/** One policy's run of a trace (dnn-edge --trace): its histograms and per-request timeline. */
export interface PolicyRun {
  policy: string;
  trace: string;
  histograms: Partial<Record<Metric, Histogram>>;
  /** the `#dnn-request` lines of this policy, as written (see src/edge/adaptive/stream.ts) */
  requests: Record<string, unknown>[];
  /** the `#dnn-applied` lines: when each trace step was applied */
  applied: Record<string, unknown>[];
}

export interface ResultsFile {
  meta?: RunMetadata;
  cells: ResultCell[];
  /** adaptive runs, in file order */
  policies: PolicyRun[];
  /** scenario cells' counts (`#dnn-stream`), in file order; empty for single runs */
  streams: StreamLine[];
  /** scenario cells' frames (`#dnn-frame`), in file order */
  frames: FrameLine[];
  /** the `#dnn-raced` lines attached to their cells (dnn-edge --race), in file order; empty for exhaustive runs */
  raced: RacedLine[];
  /** per-line problems that were skipped, as `file:line: what` */
  warnings: string[];
}

export type ResultsFileProblem = 'unreadable' | 'empty' | 'not-a-log' | 'foreign' | 'no-data';

/** A results file that gives no usable data at all; the message names the file and says why. */
export class ResultsFileError extends UserError {
  constructor(
    readonly file: string,
    readonly problem: ResultsFileProblem,
    message: string,
  ) {
    super(message);
    this.name = 'ResultsFileError';
  }
}

/** Reads a results file, skipping (with a warning) every line that cannot be used. */
export function readResultsFile(path: string): ResultsFile {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory (pass the .hdr files in it, or --legacy DIR for the published tool\'s outputs)' : errorMessage(e);
    throw new ResultsFileError(path, 'unreadable', `${path}: ${why}`);
  }
  if (isGzip(buf)) {
    // archived runs (docs/data) are gzipped: read them as they are
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new ResultsFileError(path, 'unreadable', `${path}: a damaged gzip file (${errorMessage(e)}); check it with gzip -t`);
    }
  }
  if (buf.includes(0)) throw notALog(path);
  return parseResultsText(buf.toString('utf8'), path);
}

function notALog(name: string): ResultsFileError {
  return new ResultsFileError(name, 'not-a-log', `${name} is not an HdrHistogram log (expected a .hdr results file written by dnn-edge)`);
}

/** What a line of a results file is, from its first characters; each kind has one handler below. */
export type LineKind = 'blank' | 'meta' | 'legend' | 'request' | 'applied' | 'stream' | 'frame' | 'raced' | 'comment' | 'interval';

export function classifyLine(line: string): LineKind {
  if (line.trim() === '') return 'blank';
  if (line.startsWith(META_PREFIX)) return 'meta';
  if (isLegend(line)) return 'legend';
  if (line.startsWith(REQUEST_PREFIX)) return 'request';
  if (line.startsWith(APPLIED_PREFIX)) return 'applied';
  if (line.startsWith(STREAM_PREFIX)) return 'stream';
  if (line.startsWith(FRAME_PREFIX)) return 'frame';
  if (line.startsWith(RACED_PREFIX)) return 'raced';
  if (line.startsWith('#')) return 'comment';
  return 'interval';
}

/** What the handlers gather while the lines of one file go by. */
interface ReadState {
  name: string;
  warnings: string[];
  meta?: RunMetadata;
  baseSec?: number;
  startSec?: number;
  /** lines with HdrHistogram log syntax */
  logLines: number;
  foreign: number;
  corrupt: number;
  pending: { tag: CellTag; histogram: Histogram; startSec: number; lengthSec: number; raced?: RacedLine }[];
  policies: PolicyRun[];
  /** timeline lines precede their policy's histograms */
  requests: Record<string, unknown>[];
  applied: Record<string, unknown>[];
  streams: StreamLine[];
  frames: FrameLine[];
  /** the last `#dnn-raced` line: it belongs to the histogram lines of its cell that follow it (same write) */
  raced?: { line: RacedLine; lineNo: number; used: boolean };
  racedLines: RacedLine[];
}

type LineHandler = (s: ReadState, line: string, lineNo: number) => void;

function skip(s: ReadState, lineNo: number, what: string): void {
  s.warnings.push(`${s.name}:${lineNo}: ${what}; line skipped`);
}

const HANDLERS: Record<LineKind, LineHandler> = {
  blank: () => {},
  meta: readMeta,
  legend: (s) => {
    s.logLines++;
  },
  request: (s, line, lineNo) => readTimeline(s, line, lineNo, 'request'),
  applied: (s, line, lineNo) => readTimeline(s, line, lineNo, 'applied'),
  stream: (s, line, lineNo) => {
    const v = readChecked(s, line, lineNo, STREAM_PREFIX, streamLineChecker);
    if (v) s.streams.push(v);
  },
  frame: (s, line, lineNo) => {
    const v = readChecked(s, line, lineNo, FRAME_PREFIX, frameLineChecker);
    if (v) s.frames.push(v);
  },
  raced: (s, line, lineNo) => {
    endRaced(s);
    const v = readChecked(s, line, lineNo, RACED_PREFIX, racedLineChecker);
    if (v) s.raced = { line: v, lineNo, used: false };
  },
  comment: (s, line) => {
    const t = timeComment(line);
    if (t) s.logLines++;
    if (t?.kind === 'base') s.baseSec = t.sec;
    if (t?.kind === 'start') s.startSec = t.sec;
  },
  interval: readInterval,
};

/** Unreadable JSON (a torn line) is skipped with a warning; JSON that breaks the schema is an error. */
function readMeta(s: ReadState, line: string, lineNo: number): void {
  let value: unknown;
  try {
    value = JSON.parse(line.slice(META_PREFIX.length));
  } catch (e) {
    s.warnings.push(`${s.name}:${lineNo}: unreadable run metadata (${errorMessage(e)}); the file is read without it`);
    return;
  }
  s.meta = checkRunMetadata(value, `${s.name}:${lineNo}`);
}

function readTimeline(s: ReadState, line: string, lineNo: number, kind: 'request' | 'applied'): void {
  const request = kind === 'request';
  try {
    (request ? s.requests : s.applied).push(JSON.parse(line.slice((request ? REQUEST_PREFIX : APPLIED_PREFIX).length)) as Record<string, unknown>);
  } catch (e) {
    s.warnings.push(`${s.name}:${lineNo}: unreadable ${request ? 'request' : 'trace step'} line (${errorMessage(e)}); line skipped`);
  }
}

/** A `#dnn-stream` or `#dnn-frame` line: torn or off-schema ones are skipped with a warning (a torn last cell is not a broken file). */
function readChecked<T>(s: ReadState, line: string, lineNo: number, prefix: string, c: { check(value: unknown, where: string): T }): T | undefined {
  try {
    return c.check(JSON.parse(line.slice(prefix.length)), `${s.name}:${lineNo}`);
  } catch (e) {
    s.warnings.push(`${s.name}:${lineNo}: unreadable ${prefix.trim()} line (${errorMessage(e)}); line skipped`);
    return undefined;
  }
}

function readInterval(s: ReadState, line: string, lineNo: number): void {
  const iv = splitIntervalLine(line);
  if (!iv) return skip(s, lineNo, 'not an HdrHistogram interval line');
  s.logLines++;
  if (iv.tag?.startsWith('policy=')) return readPolicyHistogram(s, iv, lineNo);
  let tag: CellTag;
  try {
    if (iv.tag === undefined) throw new Error('no Tag=');
    tag = parseTag(iv.tag);
  } catch (e) {
    s.foreign++;
    return skip(s, lineNo, `tag is not a dnn-partition-bench tag (${errorMessage(e)})`);
  }
  const histogram = decodeOrSkip(s, iv.base64, lineNo);
  const raced = racedFor(s, tag);
  if (histogram) s.pending.push({ tag, histogram, startSec: iv.startSec, lengthSec: iv.lengthSec, ...(raced ? { raced } : {}) });
}

/** The pending `#dnn-raced` line when this histogram is of its cell; a line of another cell ends it. */
function racedFor(s: ReadState, tag: CellTag): RacedLine | undefined {
  if (!s.raced) return undefined;
  if (s.raced.line.cell !== tagCellKey(tag)) {
    endRaced(s);
    return undefined;
  }
  s.raced.used = true;
  return s.raced.line;
}

/** Done with the pending `#dnn-raced` line: kept when histograms of its cell followed it, else skipped with a warning. */
function endRaced(s: ReadState): void {
  const r = s.raced;
  s.raced = undefined;
  if (!r) return;
  if (r.used) s.racedLines.push(r.line);
  else s.warnings.push(`${s.name}:${r.lineNo}: #dnn-raced line of cell ${r.line.cell} is not followed by that cell's histograms; line skipped`);
}

/** One of the 4 histograms of a policy's run; the run takes the timeline lines read before it. */
function readPolicyHistogram(s: ReadState, iv: IntervalLine, lineNo: number): void {
  const f = new Map(iv.tag!.split(';').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
  const policy = f.get('policy')!;
  const trace = f.get('trace') ?? '';
  const metric = f.get('metric') as Metric;
  if (!(METRICS as readonly string[]).includes(metric)) return skip(s, lineNo, `policy histogram with metric '${metric}'`);
  let run = s.policies.find((p) => p.policy === policy && p.trace === trace && !p.histograms[metric]);
  if (!run) {
    run = { policy, trace, histograms: {}, requests: s.requests.filter((r) => r['policy'] === policy), applied: s.applied };
    s.requests = s.requests.filter((r) => r['policy'] !== policy);
    s.applied = [];
    s.policies.push(run);
  }
  const histogram = decodeOrSkip(s, iv.base64, lineNo);
  if (histogram) run.histograms[metric] = histogram;
}

function decodeOrSkip(s: ReadState, base64: string, lineNo: number): Histogram | undefined {
  try {
    return decodeHistogram(base64);
  } catch (e) {
    s.corrupt++;
    skip(s, lineNo, `truncated or corrupt histogram (${errorMessage(e)})`);
    return undefined;
  }
}

/**
 * The policies of an interleaved replay stopped before their last slot: it writes request lines turn
 * by turn and a policy's histograms after its last turn, so their lines are in the file and their
 * histograms are not. The histograms are rebuilt from the lines' parts (ms, recorded in µs as the run
 * records them), so what was measured reaches the report; a warning says so. Lines without the parts
 * (not a request of ours) stay in the file, left out, and are named in the warning.
 */
function stoppedRuns(s: ReadState): PolicyRun[] {
  const trace = s.policies[0]?.trace ?? tagSafe(basename(s.meta?.conditions?.adaptive?.file ?? 'trace'));
  const byPolicy = new Map<string, Record<string, unknown>[]>();
  for (const r of s.requests) {
    const policy = String(r['policy']);
    const lines = byPolicy.get(policy);
    if (lines) lines.push(r);
    else byPolicy.set(policy, [r]);
  }
  const runs: PolicyRun[] = [];
  const left: string[] = [];
  for (const [policy, requests] of byPolicy) {
    if (!requests.every((r) => METRICS.every((m) => Number.isFinite(r[`${m}_ms`]) && (r[`${m}_ms`] as number) >= 0))) {
      left.push(`${requests.length} request line(s) of ${policy}`);
      continue;
    }
    const histograms = Object.fromEntries(METRICS.map((m) => [m, newLatencyHistogram()])) as Record<Metric, Histogram>;
    for (const r of requests) for (const m of METRICS) histograms[m].recordValue(Math.round((r[`${m}_ms`] as number) * 1000));
    runs.push({ policy, trace, histograms, requests, applied: s.applied });
  }
  const rebuilt = runs.map((r) => `${r.policy} (${r.requests.length})`).join(', ');
  if (runs.length) s.warnings.push(`${s.name}: ${rebuilt}: request lines without policy histograms (a run stopped before its last slot): histograms rebuilt from the request lines`);
  if (left.length) s.warnings.push(`${s.name}: ${left.join(', ')} have no policy histograms and no latency parts to rebuild them from: kept in the file, left out of the report`);
  return runs;
}

/** Parses the text of a results file; `name` is used in messages. */
export function parseResultsText(text: string, name: string): ResultsFile {
  if (text.trim() === '') throw new ResultsFileError(name, 'empty', `${name} is empty (no header, no measurements)`);
  const s: ReadState = { name, warnings: [], logLines: 0, foreign: 0, corrupt: 0, pending: [], policies: [], requests: [], applied: [], streams: [], frames: [], racedLines: [] };
  text.split(/\r?\n/).forEach((line, i) => HANDLERS[classifyLine(line)](s, line, i + 1));
  endRaced(s);
  return finish(s);
}

/** The cells with their times, or the ResultsFileError of a file that gives no usable data. */
function finish(s: ReadState): ResultsFile {
  const { name, policies, meta, warnings } = s;
  const pending = withStreamLines(s);
  if (s.requests.length > 0) policies.push(...stoppedRuns(s));
  if (pending.length === 0 && policies.length === 0) {
    if (s.logLines === 0 && !meta) throw notALog(name);
    if (s.foreign > 0 && !meta && s.corrupt === 0) {
      throw new ResultsFileError(name, 'foreign', `${name} is an HdrHistogram log from another tool: none of its ${s.foreign} histograms carries a dnn-partition-bench tag`);
    }
    const why = s.corrupt > 0 ? `all ${s.corrupt} histogram lines are truncated or corrupt (first: ${warnings.find((w) => w.includes('corrupt'))})` : 'it holds no measurements (header only: was the run stopped before its first cell?)';
    throw new ResultsFileError(name, 'no-data', `${name}: no usable data: ${why}`);
  }
  const base = timeBaseSec(s.baseSec, s.startSec, pending[0]?.startSec ?? 0);
  const cells = pending.map((p) => ({
    tag: p.tag,
    histogram: p.histogram,
    startMs: (base + p.startSec) * 1000,
    endMs: (base + p.startSec + p.lengthSec) * 1000,
    ...(p.raced ? { raced: p.raced } : {}),
  }));
  return { meta, cells, policies, warnings, streams: s.streams, frames: s.frames, raced: s.racedLines };
}

/**
 * A scenario cell is a cell only with its `#dnn-stream` line (written in the same write, before
 * its histograms): histograms of one without it are skipped, once per cell, with a warning.
 */
function withStreamLines(s: ReadState): ReadState['pending'] {
  const streams = new Set(s.streams.map((l) => l.cell));
  const orphans = new Set<string>();
  const kept = s.pending.filter((p) => {
    if (p.tag.scenario === undefined) return true;
    const key = tagCellKey(p.tag);
    if (streams.has(key)) return true;
    orphans.add(key);
    return false;
  });
  for (const key of orphans) s.warnings.push(`${s.name}: scenario cell ${key} has histograms but no #dnn-stream line; its histograms are skipped`);
  return kept;
}

/** The `#dnn-meta` line of a results file, when it has a readable, valid one (e.g. a run stopped before its first cell). */
export function readMetaLine(path: string): RunMetadata | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    const nl = text.indexOf('\n');
    const first = nl < 0 ? text : text.slice(0, nl);
    return first.startsWith(META_PREFIX) ? checkRunMetadata(JSON.parse(first.slice(META_PREFIX.length)), `${path}:1`) : undefined;
  } catch {
    return undefined;
  }
}

import { readFileSync } from 'node:fs';
import type { Histogram } from 'hdr-histogram-js';
import { UserError, errorMessage } from '../errors.js';
import { META_PREFIX, type RunMetadata } from './metadata.js';
import { type CellTag, type Metric, METRICS, parseTag } from './tags.js';
import { APPLIED_PREFIX, REQUEST_PREFIX, decodeHistogram, isLegend, splitIntervalLine, timeBaseSec, timeComment } from './log-lines.js';

export interface ResultCell {
  tag: CellTag;
  histogram: Histogram;
  /** interval of the cell's measurement, ms since the epoch */
  startMs: number;
  endMs: number;
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
  if (buf.includes(0)) throw notALog(path);
  return parseResultsText(buf.toString('utf8'), path);
}

function notALog(name: string): ResultsFileError {
  return new ResultsFileError(name, 'not-a-log', `${name} is not an HdrHistogram log (expected a .hdr results file written by dnn-edge)`);
}

/** Parses the text of a results file; `name` is used in messages. */
export function parseResultsText(text: string, name: string): ResultsFile {
  if (text.trim() === '') throw new ResultsFileError(name, 'empty', `${name} is empty (no header, no measurements)`);
  const warnings: string[] = [];
  const warn = (lineNo: number, what: string) => warnings.push(`${name}:${lineNo}: ${what}; line skipped`);
  let meta: RunMetadata | undefined;
  let baseSec: number | undefined;
  let startSec: number | undefined;
  let logLines = 0; // lines with HdrHistogram log syntax
  let foreign = 0;
  let corrupt = 0;
  const pending: { tag: CellTag; histogram: Histogram; startSec: number; lengthSec: number }[] = [];
  const policies: PolicyRun[] = [];
  // Timeline lines precede their policy's histograms.
  let requests: Record<string, unknown>[] = [];
  let applied: Record<string, unknown>[] = [];

  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const lineNo = i + 1;
    if (line.trim() === '') return;
    if (line.startsWith(META_PREFIX)) {
      try {
        meta = JSON.parse(line.slice(META_PREFIX.length)) as RunMetadata;
      } catch (e) {
        warnings.push(`${name}:${lineNo}: unreadable run metadata (${errorMessage(e)}); the file is read without it`);
      }
      return;
    }
    if (isLegend(line)) {
      logLines++;
      return;
    }
    if (line.startsWith(REQUEST_PREFIX) || line.startsWith(APPLIED_PREFIX)) {
      const request = line.startsWith(REQUEST_PREFIX);
      try {
        (request ? requests : applied).push(JSON.parse(line.slice((request ? REQUEST_PREFIX : APPLIED_PREFIX).length)) as Record<string, unknown>);
      } catch (e) {
        warnings.push(`${name}:${lineNo}: unreadable ${request ? 'request' : 'trace step'} line (${errorMessage(e)}); line skipped`);
      }
      return;
    }
    if (line.startsWith('#')) {
      const t = timeComment(line);
      if (t) logLines++;
      if (t?.kind === 'base') baseSec = t.sec;
      if (t?.kind === 'start') startSec = t.sec;
      return;
    }
    const iv = splitIntervalLine(line);
    if (!iv) {
      warn(lineNo, 'not an HdrHistogram interval line');
      return;
    }
    logLines++;
    if (iv.tag?.startsWith('policy=')) {
      const f = new Map(iv.tag.split(';').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
      const policy = f.get('policy')!;
      const trace = f.get('trace') ?? '';
      const metric = f.get('metric') as Metric;
      if (!(METRICS as readonly string[]).includes(metric)) {
        warn(lineNo, `policy histogram with metric '${metric}'`);
        return;
      }
      let run = policies.find((p) => p.policy === policy && p.trace === trace && !p.histograms[metric]);
      if (!run) {
        run = { policy, trace, histograms: {}, requests: requests.filter((r) => r['policy'] === policy), applied };
        requests = requests.filter((r) => r['policy'] !== policy);
        applied = [];
        policies.push(run);
      }
      try {
        run.histograms[metric] = decodeHistogram(iv.base64);
      } catch (e) {
        corrupt++;
        warn(lineNo, `truncated or corrupt histogram (${errorMessage(e)})`);
      }
      return;
    }
    let tag: CellTag;
    try {
      if (iv.tag === undefined) throw new Error('no Tag=');
      tag = parseTag(iv.tag);
    } catch (e) {
      foreign++;
      warn(lineNo, `tag is not a dnn-partition-bench tag (${errorMessage(e)})`);
      return;
    }
    try {
      pending.push({ tag, histogram: decodeHistogram(iv.base64), startSec: iv.startSec, lengthSec: iv.lengthSec });
    } catch (e) {
      corrupt++;
      warn(lineNo, `truncated or corrupt histogram (${errorMessage(e)})`);
    }
  });

  if (pending.length === 0 && policies.length === 0) {
    if (logLines === 0 && !meta) throw notALog(name);
    if (foreign > 0 && !meta && corrupt === 0) {
      throw new ResultsFileError(name, 'foreign', `${name} is an HdrHistogram log from another tool: none of its ${foreign} histograms carries a dnn-partition-bench tag`);
    }
    const why = corrupt > 0 ? `all ${corrupt} histogram lines are truncated or corrupt (first: ${warnings.find((w) => w.includes('corrupt'))})` : 'it holds no measurements (header only: was the run stopped before its first cell?)';
    throw new ResultsFileError(name, 'no-data', `${name}: no usable data: ${why}`);
  }
  const base = timeBaseSec(baseSec, startSec, pending[0]?.startSec ?? 0);
  const cells = pending.map((p) => ({
    tag: p.tag,
    histogram: p.histogram,
    startMs: (base + p.startSec) * 1000,
    endMs: (base + p.startSec + p.lengthSec) * 1000,
  }));
  return { meta, cells, policies, warnings };
}

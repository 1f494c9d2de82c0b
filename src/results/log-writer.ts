import { mkdir, open, readFile, truncate, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Histogram } from 'hdr-histogram-js';
import type { Condition } from '../conditions/condition.js';
import { UserError, errorMessage } from '../errors.js';
import { META_PREFIX, type RunMetadata, checkRunMetadata } from './metadata.js';
import { CODEC_METRICS, METRICS, STREAM_METRICS, TIER_METRICS, type AnyMetric, type Metric, cellKey, parseTag, tagCellKey } from './tags.js';
import { APPLIED_PREFIX, REQUEST_PREFIX, type CellHistograms, cellText, decodeHistogram, headerText, isGzip, isLegend, policyText, splitIntervalLine, tagSafe, timeComment } from './log-lines.js';
import { FRAME_PREFIX, STREAM_PREFIX, type FrameLine, type StreamLine, streamLineChecker } from './stream-lines.js';
import { RACED_PREFIX, type RacedLine, racedLineChecker, racedLineText } from './raced-lines.js';

export { newLatencyHistogram } from './log-lines.js';

/** The file operations the writer needs: small so a test can watch them on a real file. */
export interface LogFile {
  append(text: string): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export type OpenLogFile = (path: string, flags: 'wx' | 'a') => Promise<LogFile>;

export const openLogFile: OpenLogFile = async (path, flags) => {
  const fh: FileHandle = await open(path, flags);
  return {
    append: async (text) => {
      await fh.appendFile(text);
    },
    sync: () => fh.sync(),
    close: () => fh.close(),
  };
};

export interface ResumeResult {
  writer: ResultsWriter;
  /** cellKey() of every complete cell already in the file (references with their ref number); raced cells (`#dnn-raced` line and all their histograms) included */
  done: Set<string>;
  /** the complete raced cells among `done`, with their `#dnn-raced` line (a raced sweep's points already dropped) */
  raced: Map<string, RacedLine>;
  meta: RunMetadata;
  /** what was cut off the end (a torn last cell), for the caller to report */
  dropped: { lines: number; bytes: number };
}

/**
 * Appends measured cells to a results file (see log-lines.ts for the format). Each cell's 4 lines
 * go out in one write followed by fsync, so a run that is killed keeps every cell it completed.
 */
export class ResultsWriter {
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly file: LogFile,
    private readonly baseMs: number,
  ) {}

  /** Creates a new results file (and its directory); refuses to overwrite one that exists. */
  static async create(path: string, meta: RunMetadata, openFile: OpenLogFile = openLogFile): Promise<ResultsWriter> {
    // the header first: metadata that fails its check leaves no empty file behind
    const baseMs = Date.now();
    const header = headerText(meta, baseMs);
    await mkdir(dirname(path), { recursive: true });
    let file: LogFile;
    try {
      file = await openFile(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new UserError(`${path} already exists; results are never overwritten: resume it with --resume ${path}, or write to another file`);
      }
      throw new UserError(`cannot create ${path}: ${errorMessage(e)}`);
    }
    await file.append(header);
    await file.sync();
    await syncDir(dirname(path));
    return new ResultsWriter(path, file, baseMs);
  }

  /**
   * Opens an interrupted results file to continue it: keeps every complete cell, cuts off a torn
   * last cell (partial line or fewer than 4 lines), and appends after it. Damage anywhere but the
   * end cannot come from an interrupted write, so it is refused rather than guessed at.
   */
  static async resume(path: string, openFile: OpenLogFile = openLogFile): Promise<ResumeResult> {
    const buf = await readForResume(path);
    const scan = scanForResume(path, buf);
    let keep = scan.keepBytes;
    let header = '';
    if (scan.baseMs === undefined) {
      // Killed while the header was being written: nothing measured yet, so write it again.
      keep = scan.metaLineBytes;
      header = headerText(scan.meta, Date.now()).slice(scan.metaLineBytes);
    }
    await truncate(path, keep);
    const file = await openFile(path, 'a');
    if (header) await file.append(header);
    await file.sync();
    const baseMs = scan.baseMs ?? Date.now();
    return {
      writer: new ResultsWriter(path, file, baseMs),
      done: scan.done,
      raced: scan.raced,
      meta: scan.meta,
      dropped: { lines: scan.droppedLines, bytes: buf.length - keep },
    };
  }

  /**
   * Writes one (condition, cut, codec) cell: its metric histograms, in one write, then fsync; `edge`: tagged `;edge=I` (a run of several edges);
   * `raced`: the cell left a race early (dnn-edge --race): its `#dnn-raced` line goes just before the histograms, in the same write.
   */
  appendCell(condition: Condition, cut: string, histograms: CellHistograms, startMs: number, endMs: number, ref?: number, codec?: string, edge?: number, raced?: Omit<RacedLine, 'cell'>): Promise<void> {
    const line = raced ? racedLineText({ cell: cellKey(condition, cut, ref, codec, undefined, edge), ...raced }) : '';
    return this.appendText(line + cellText(this.baseMs, condition, cut, histograms, startMs, endMs, ref, codec, edge === undefined ? undefined : { edge }));
  }

  /**
   * Writes one three-tier cell (condition, x, y): its 6 histograms (`device`, `device_transfer`, then
   * the 4 latencies), tagged `;cut=X;cut2=Y`, in one write, then fsync.
   */
  appendTierCell(condition: Condition, x: string, y: string, histograms: CellHistograms, startMs: number, endMs: number, ref?: number): Promise<void> {
    return this.appendText(cellText(this.baseMs, condition, x, histograms, startMs, endMs, ref, undefined, undefined, y));
  }

  /**
   * Writes one scenario cell: its `#dnn-stream` line, its histograms (tagged `;scenario=`), then one
   * `#dnn-frame` line per frame offered, in one write, then fsync.
   */
  appendStreamCell(c: StreamCellText): Promise<void> {
    return this.appendText(streamCellText(this.baseMs, c));
  }

  /** One policy's run of a trace: its timeline and applied steps as comment lines, then its 4 histograms; one write, then fsync. */
  appendPolicy(
    policy: string,
    trace: string,
    histograms: Record<Metric, Histogram>,
    comments: { requests: object[]; applied: object[] },
    startMs: number,
    endMs: number,
    camera?: Omit<StreamLine, 'cell'>,
  ): Promise<void> {
    // with a camera (--scenario stream:FPS) the policy's counts come first, as a scenario cell's do; its cell is the policy's tag prefix
    const stream = camera ? [`${STREAM_PREFIX}${JSON.stringify({ cell: `policy=${tagSafe(policy)};trace=${tagSafe(trace)}`, ...camera })}`] : [];
    const lines = [...stream, ...comments.applied.map((a) => `${APPLIED_PREFIX}${JSON.stringify(a)}`), ...comments.requests.map((r) => `${REQUEST_PREFIX}${JSON.stringify(r)}`)];
    return this.appendText(`${lines.map((l) => `${l}\n`).join('')}${policyText(this.baseMs, policy, trace, histograms, startMs, endMs)}`);
  }

  /**
   * Request lines of a policy's run ahead of its histograms (interleaved replay: turn by turn, so a
   * killed run keeps them). The reader gives each policy the request lines that name it.
   */
  appendRequests(requests: object[]): Promise<void> {
    if (requests.length === 0) return Promise.resolve();
    return this.appendText(requests.map((r) => `${REQUEST_PREFIX}${JSON.stringify(r)}\n`).join(''));
  }

  private appendText(text: string): Promise<void> {
    // Calls are serialised so two writes never interleave, even if a caller forgets to await.
    const next = this.queue.then(async () => {
      await this.file.append(text);
      await this.file.sync();
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.file.close();
  }
}

/** A scenario cell as the writer takes it (the `cell` of its lines is its key, made here). */
export interface StreamCellText {
  condition: Condition;
  cut: string;
  codec?: string;
  ref?: number;
  scenario: string;
  edge?: number;
  histograms: CellHistograms;
  startMs: number;
  endMs: number;
  stream: Omit<StreamLine, 'cell'>;
  frames: Omit<FrameLine, 'cell'>[];
}

/** The text of a scenario cell: `#dnn-stream` line, histograms, `#dnn-frame` lines. */
export function streamCellText(baseMs: number, c: StreamCellText): string {
  const cell = cellKey(c.condition, c.cut, c.ref, c.codec, c.scenario, c.edge);
  const stream: StreamLine = { cell, ...c.stream };
  const frames = c.frames.map((f) => `${FRAME_PREFIX}${JSON.stringify({ cell, ...f })}\n`).join('');
  const load = { scenario: c.scenario, ...(c.edge === undefined ? {} : { edge: c.edge }) };
  return `${STREAM_PREFIX}${JSON.stringify(stream)}\n${cellText(baseMs, c.condition, c.cut, c.histograms, c.startMs, c.endMs, c.ref, c.codec, load)}${frames}`;
}

async function syncDir(dir: string): Promise<void> {
  // Makes the new file's directory entry durable too; not every file system allows it, hence best effort.
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    /* best effort */
  }
}

interface ResumeScan {
  meta: RunMetadata;
  metaLineBytes: number;
  baseMs?: number;
  done: Set<string>;
  raced: Map<string, RacedLine>;
  keepBytes: number;
  droppedLines: number;
}

/** Finds the complete cells of a results file and where its intact part ends. */
/** Throws the UserError a resume of this file would, without changing it (checks before a run starts). */
export async function checkResumable(path: string): Promise<RunMetadata> {
  return scanForResume(path, await readForResume(path)).meta;
}

async function readForResume(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new UserError(`cannot resume ${path}: ${errorMessage(e)}`);
  }
}

function scanForResume(path: string, buf: Buffer): ResumeScan {
  if (buf.length === 0) throw new UserError(`cannot resume ${path}: the file is empty; start a new run without --resume`);
  if (isGzip(buf)) throw new UserError(`cannot resume ${path}: it is gzipped; gunzip it and resume the .hdr file`);
  const notOurs = `cannot resume ${path}: its first line is not a '${META_PREFIX.trim()}' line, so it was not written by dnn-edge`;
  const lines = splitWithOffsets(buf);
  const first = lines[0]!;
  if (!first.complete || !first.text.startsWith(META_PREFIX)) throw new UserError(notOurs);
  let value: unknown;
  try {
    value = JSON.parse(first.text.slice(META_PREFIX.length));
  } catch {
    throw new UserError(notOurs);
  }
  const meta = checkRunMetadata(value, `${path}:1`);

  let baseSec: number | undefined;
  let startSec: number | undefined;
  let legend = false;
  const done = new Set<string>();
  let keepBytes = first.end;
  // whole: the cell's 4 latencies are in (and its 3 codec metrics, or none yet; a scenario cell: its
  // stream line, queueing metrics and every frame line); start: its first byte
  let group: Group | undefined;
  // a scenario cell's #dnn-stream line, waiting for the cell's histograms (they follow it in the same write)
  let stream: { key: string; start: number; offered: number; lineNo: number } | undefined;
  // a raced cell's #dnn-raced line, waiting for the cell's histograms (same write): the cell starts there
  let raced: { line: RacedLine; start: number; lineNo: number } | undefined;
  const racedDone = new Map<string, RacedLine>();
  let damage: number | undefined; // first line (1-based) after the last complete cell that is not part of one
  let droppedLines = 0;
  const complete = (g: Group, end: number) => {
    if (damage !== undefined) {
      throw new UserError(
        `cannot resume ${path}: line ${damage} is damaged but complete cells follow it, which an interrupted run cannot cause; ` +
          'start a new results file (dnn-report still reads this one and skips the damaged lines)',
      );
    }
    done.add(g.key);
    if (g.raced) racedDone.set(g.key, g.raced);
    keepBytes = end;
    g.whole = true;
  };

  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const lineNo = i + 1;
    const text = line.text;
    if (line.complete && (text.startsWith(RACED_PREFIX) || text.startsWith(STREAM_PREFIX))) {
      // a line that leads its cell's histograms (same write): the cell starts at it
      if (group && !group.whole) damage ??= lineNo - group.lines;
      if (stream ?? raced) damage ??= (stream ?? raced)!.lineNo;
      group = undefined;
      stream = undefined;
      raced = undefined;
      const at = { start: line.start, lineNo };
      if (text.startsWith(RACED_PREFIX)) {
        const r = checkedLine(text, RACED_PREFIX, racedLineChecker);
        if (r) raced = { line: r, ...at };
      } else {
        const v = checkedLine(text, STREAM_PREFIX, streamLineChecker);
        if (v) stream = { key: v.cell, offered: v.offered, ...at };
      }
      if (!stream && !raced) damage ??= lineNo;
      continue;
    }
    if (line.complete && text.startsWith(FRAME_PREFIX)) {
      if (group?.scenario && group.histograms && !group.whole && frameCellOf(text) === group.key && ++group.frames >= group.offered) complete(group, line.end);
      else if (group?.whole && damage === undefined) keepBytes = line.end;
      continue;
    }
    if (line.complete && (text === '' || isLegend(text) || text.startsWith('#'))) {
      const t = timeComment(text);
      if (t?.kind === 'base') baseSec = t.sec;
      if (t?.kind === 'start') startSec = t.sec;
      if (isLegend(text)) legend = true;
      if ((!group || group.whole) && !stream && !raced && damage === undefined) keepBytes = line.end;
      continue;
    }
    const cell = line.complete ? parseCellLine(text) : undefined;
    if (cell && group && group.key === cell.key && !group.metrics.has(cell.metric)) {
      group.metrics.add(cell.metric);
      group.lines++;
    } else if (cell) {
      if (group && !group.whole) damage ??= lineNo - group.lines;
      group = { key: cell.key, metrics: new Set([cell.metric]), lines: 1, start: line.start, whole: false, scenario: cell.scenario, histograms: false, offered: 0, frames: 0 };
      if (cell.scenario) {
        // its stream line came just before, in the same write: the cell starts there
        if (stream?.key === cell.key) Object.assign(group, { start: stream.start, offered: stream.offered });
        else damage ??= lineNo;
      } else if (stream) damage ??= stream.lineNo;
      // a raced cell: its #dnn-raced line came just before, in the same write; a torn cell loses it too
      if (raced?.line.cell === cell.key && !cell.scenario) Object.assign(group, { start: raced.start, raced: raced.line });
      else if (raced) damage ??= raced.lineNo;
      stream = undefined;
      raced = undefined;
    } else {
      damage ??= group && !group.whole ? lineNo - group.lines : (stream?.lineNo ?? raced?.lineNo ?? lineNo);
      group = undefined;
      stream = undefined;
      raced = undefined;
      continue;
    }
    const codecs = CODEC_METRICS.filter((m) => group!.metrics.has(m)).length;
    if (group.whole) {
      // codec metrics follow the 4 latencies (a run that set a codec): the cell is whole again only with all three
      if (codecs < CODEC_METRICS.length) {
        done.delete(group.key);
        racedDone.delete(group.key);
        keepBytes = group.start;
        group.whole = false;
        continue;
      }
    }
    // a three-tier cell (cut2=) writes its device metrics first: whole with all 6
    const tiers = !cell.tiers || TIER_METRICS.every((m) => group!.metrics.has(m));
    const latencies = tiers && METRICS.every((m) => group!.metrics.has(m)) && (codecs === 0 || codecs === CODEC_METRICS.length);
    if (!latencies) continue;
    if (!group.scenario) {
      complete(group, line.end);
      continue;
    }
    // a scenario cell: whole once its queueing metrics are in and then its frame lines
    if (STREAM_METRICS.every((m) => group!.metrics.has(m)) && !group.histograms) {
      group.histograms = true;
      if (group.offered === 0) complete(group, line.end);
    }
  }
  for (const line of lines) if (line.start >= keepBytes && (line.text !== '' || line.complete)) droppedLines++;
  if (!legend && done.size === 0) return { meta, metaLineBytes: first.end, done, raced: racedDone, keepBytes: first.end, droppedLines };
  const base = baseSec ?? startSec;
  if (base === undefined) throw new UserError(`cannot resume ${path}: no #[BaseTime] or #[StartTime] line; start a new results file`);
  return { meta, metaLineBytes: first.end, baseMs: base * 1000, done, raced: racedDone, keepBytes, droppedLines };
}

interface Group {
  key: string;
  metrics: Set<AnyMetric>;
  lines: number;
  start: number;
  whole: boolean;
  /** a scenario cell: whole only with its stream line before and all its frame lines after */
  scenario: boolean;
  /** a scenario cell's histograms are all in */
  histograms: boolean;
  offered: number;
  frames: number;
  /** a raced cell: its `#dnn-raced` line (the cell starts at it) */
  raced?: RacedLine;
}

/** A `#dnn-raced` or `#dnn-stream` line, checked; undefined when torn or off its schema. */
function checkedLine<T>(text: string, prefix: string, c: { check(value: unknown, where: string): T }): T | undefined {
  try {
    return c.check(JSON.parse(text.slice(prefix.length)), 'resume');
  } catch {
    return undefined;
  }
}

function frameCellOf(text: string): string | undefined {
  try {
    const v = JSON.parse(text.slice(FRAME_PREFIX.length)) as { cell?: unknown };
    return typeof v.cell === 'string' ? v.cell : undefined;
  } catch {
    return undefined;
  }
}

function parseCellLine(text: string): { key: string; metric: AnyMetric; scenario: boolean; tiers: boolean } | undefined {
  const iv = splitIntervalLine(text);
  if (!iv?.tag) return undefined;
  try {
    const tag = parseTag(iv.tag);
    decodeHistogram(iv.base64);
    return { key: tagCellKey(tag), metric: tag.metric, scenario: tag.scenario !== undefined, tiers: tag.cut2 !== undefined };
  } catch {
    return undefined; // TagError, or a histogram that does not decode
  }
}

interface Line {
  text: string;
  start: number;
  /** byte offset just after the line's '\n' */
  end: number;
  /** false for a last line without '\n' (a torn write) */
  complete: boolean;
}

function splitWithOffsets(buf: Buffer): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start < buf.length) {
    const nl = buf.indexOf(0x0a, start);
    const end = nl < 0 ? buf.length : nl + 1;
    lines.push({ text: buf.toString('utf8', start, nl < 0 ? buf.length : nl).replace(/\r$/, ''), start, end, complete: nl >= 0 });
    start = end;
  }
  return lines;
}

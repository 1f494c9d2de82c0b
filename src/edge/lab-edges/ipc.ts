import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import type { Condition } from '../../conditions/condition.js';
import type { DeviceLimits } from '../../conditions/cgroup.js';
import { decodeHistogram, type CellHistograms } from '../../results/log-lines.js';
import type { StreamCellText } from '../../results/log-writer.js';

/**
 * The messages between the lab (edge 0) and its followers (edges 1..N-1, `--edges N`): JSON lines
 * on the follower's stdin and stdout. Lines on stdout without the marker are not messages (a
 * library's greeting): the lab shows them as the follower's log.
 */
export const MESSAGE_MARKER = '@dnn-edges ';

/** Lab -> follower. */
export type ToFollower =
  /** first and once: what to run (the lab's own dnn-edge arguments, re-parsed by the follower) and where */
  | { t: 'start'; index: number; argv: string[]; host: string; port: number; iface: string | null; orderSeed: number; limits: DeviceLimits }
  /** every edge is at barrier `key`: go on */
  | { t: 'go'; key: string }
  /** the lab set this edge device's CPU time (--edge-slowdown's calibrated quota): stress is sized to it */
  | { t: 'cpus'; cores: number };

/** Follower -> lab. */
export type FromFollower =
  /** arrived at barrier `key` (the first: connected, fingerprint proven, warmed up) */
  | { t: 'at'; key: string }
  /** a finished cell, to be written into the one results file tagged with this edge */
  | { t: 'cell'; cell: WireCell }
  /** the sweep is over (every cell sent) */
  | { t: 'done'; cells: number; samples: number; retries: number }
  /** the run stopped: `early` = the cloud or a stressor failed (its cells are saved), else a bug or a user error */
  | { t: 'failed'; message: string; early: boolean };

/**
 * One cell as the follower's sink received it, the histograms as compressed base64 (lossless): a
 * `single` cell (CellSink.appendCell) or, with `stream`, a scenario cell (appendStreamCell, which
 * carries its edge).
 */
export type WireCell = Omit<StreamCellText, 'histograms' | 'scenario' | 'stream' | 'frames'> & {
  histograms: Record<string, string>;
} & Partial<Pick<StreamCellText, 'scenario' | 'stream' | 'frames'>>;

function encodeHistograms(histograms: CellHistograms): Record<string, string> {
  const encoded: Record<string, string> = {};
  for (const [metric, h] of Object.entries(histograms)) if (h) encoded[metric] = encodeIntoCompressedBase64(h);
  return encoded;
}

export function encodeCell(condition: Condition, cut: string, histograms: CellHistograms, startMs: number, endMs: number, ref?: number, codec?: string): WireCell {
  return { condition, cut, startMs, endMs, histograms: encodeHistograms(histograms), ...(ref === undefined ? {} : { ref }), ...(codec === undefined ? {} : { codec }) };
}

export function encodeStreamCell(c: StreamCellText): WireCell {
  return { ...c, histograms: encodeHistograms(c.histograms) };
}

/** The histograms of a wire cell (the caller destroys them once written). */
export function decodeCellHistograms(cell: WireCell): CellHistograms {
  const out: Record<string, ReturnType<typeof decodeHistogram>> = {};
  for (const [metric, base64] of Object.entries(cell.histograms)) out[metric] = decodeHistogram(base64);
  return out as CellHistograms;
}

/** One end of the channel: send() writes a message line; every message line read goes to onMessage, other lines to onOther. */
export interface Channel<Out> {
  send(m: Out): void;
  /** resolves when the other end closed its side (or close() ran) */
  closed: Promise<void>;
  /** stops reading (the process may then end) */
  close(): void;
}

export function openChannel<In, Out>(input: Readable, output: Writable, onMessage: (m: In) => void, onOther: (line: string) => void = () => undefined): Channel<Out> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  const closed = new Promise<void>((resolve) => lines.once('close', resolve));
  lines.on('line', (line) => {
    if (!line.startsWith(MESSAGE_MARKER)) {
      if (line.trim()) onOther(line);
      return;
    }
    onMessage(JSON.parse(line.slice(MESSAGE_MARKER.length)) as In);
  });
  return {
    send: (m) => {
      if (!output.writableEnded && !output.destroyed) output.write(`${MESSAGE_MARKER}${JSON.stringify(m)}\n`);
    },
    closed,
    close: () => {
      lines.close();
      input.destroy();
    },
  };
}

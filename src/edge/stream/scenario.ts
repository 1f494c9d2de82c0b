import { UserError } from '../../errors.js';

/**
 * The load a cell is measured under (MLPerf LoadGen's vocabulary): `single` one request at a time
 * (today's sweep), `stream` a camera delivering a frame every 1/FPS s, `server` Poisson arrivals
 * at RATE/s queued at the edge, `max` as many frames in flight as the pipeline takes (frames/s at
 * saturation).
 */
export type Scenario = { kind: 'single' } | { kind: 'stream'; fps: number } | { kind: 'server'; rate: number } | { kind: 'max' };
/** A scenario with frames in flight (every one but `single`). */
export type PipelinedScenario = Exclude<Scenario, { kind: 'single' }>;

export const SINGLE: Scenario = { kind: 'single' };
/** --in-flight default: enough to overlap edge, wire and cloud with a frame to spare, few enough to keep latency close to the pipeline's. */
export const DEFAULT_IN_FLIGHT = 4;
export const MAX_IN_FLIGHT = 64;
/** Above this a rate is no camera or server load this tool could offer (one frame every 100 µs). */
const MAX_RATE = 10_000;

const USAGE = "--scenario must be single, stream:FPS (a camera, e.g. stream:15), server:RATE (Poisson arrivals per second, e.g. server:20) or max";

function positiveRate(text: string, what: string, whole: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0 || n > MAX_RATE) throw new UserError(`--scenario ${whole}: ${what} must be a number above 0 and at most ${MAX_RATE}, got '${text}'`);
  return n;
}

/** `single`, `stream:FPS`, `server:RATE` or `max`; anything else is a UserError. */
export function parseScenario(text: string): Scenario {
  const t = text.trim();
  if (t === 'single') return SINGLE;
  if (t === 'max') return { kind: 'max' };
  const m = /^(stream|server):(.*)$/.exec(t);
  if (!m) throw new UserError(`${USAGE}, got '${text}'`);
  if (m[1] === 'stream') return { kind: 'stream', fps: positiveRate(m[2]!, 'the frame rate', t) };
  return { kind: 'server', rate: positiveRate(m[2]!, 'the arrival rate', t) };
}

/** As results tags and the metadata name it: `single`, `stream:15`, `server:20`, `max`. */
export function scenarioLabel(s: Scenario): string {
  switch (s.kind) {
    case 'single':
      return 'single';
    case 'stream':
      return `stream:${String(s.fps)}`;
    case 'server':
      return `server:${String(s.rate)}`;
    case 'max':
      return 'max';
  }
}

export function isPipelined(s: Scenario): s is PipelinedScenario {
  return s.kind !== 'single';
}

/** --in-flight: 1..64 frames in flight at most. */
export function checkInFlight(k: number): number {
  if (!Number.isInteger(k) || k < 1 || k > MAX_IN_FLIGHT) throw new UserError(`--in-flight must be an integer from 1 to ${MAX_IN_FLIGHT}, got ${k}`);
  return k;
}

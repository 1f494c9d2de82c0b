import type { InferReply } from '../cloud-link.js';
import { LinkFailure } from '../cloud-link.js';
import type { EdgeOutput } from '../measure.js';
import { arrivalOffsets } from './arrivals.js';
import { newFrame, type FrameRecord, type ReplyStress } from './frame.js';
import type { PipelinedScenario } from './scenario.js';

/**
 * The stage runner of a scenario cell: frames arrive (arrivals.ts), wait for the edge, go through
 * the edge stage one at a time (the edge is one device), then to the cloud over the link while the
 * edge takes the next frame, so edge compute, the wire and cloud compute overlap. At most
 * `inFlight` frames are in flight (started at the edge, not yet answered). Replies are matched to
 * frames by the link (request ids); each frame keeps its own state, so out-of-order completion
 * needs nothing here.
 *
 * Who waits, and who is dropped:
 * - stream:FPS: a frame that has not started its edge stage when the next frame arrives (edge busy,
 *   or `inFlight` frames in flight) is dropped, as a camera overwrites its buffer;
 * - server:RATE: frames queue at the edge (FIFO) up to `queueCap`; beyond it they are dropped;
 * - max: a frame arrives the moment it can start (closed loop), so none waits and none is dropped.
 * A frame the cloud refuses (QUEUE_FULL) is dropped and counted as refused. Any other failure stops
 * the cell: no new frame starts, the ones in flight settle, and the failure is thrown (the caller
 * measures the cell again from scratch).
 */
export interface PipelineStages {
  /** the edge stage of frame i (preprocessing, edge half, readback, encoding) */
  edge(i: number): Promise<EdgeOutput>;
  /** the cloud's half of frame i: the link's request */
  cloud(out: EdgeOutput, i: number): Promise<InferReply>;
  /** told of each frame once it is done: completed, dropped or refused (not of frames lost to a failure) */
  settled?(f: FrameRecord): void;
}

export interface PipelineOptions {
  scenario: PipelinedScenario;
  /** frames offered (warm-up included) */
  frames: number;
  inFlight: number;
  /** seed of the Poisson arrivals (server) */
  seed: number;
  /** server: frames waiting at the edge beyond this are dropped */
  queueCap?: number;
}

/** server: a sane bound on the edge's queue (frames waiting for the edge), beyond which frames are dropped. */
export const EDGE_QUEUE_CAP = 10_000;

/** What the RESULT may add in protocol v3 (absent from older links): read as optional. */
type ReplyV3 = InferReply & { queueMs?: number; cloudStress?: ReplyStress };

/** QUEUE_FULL from the cloud: the frame is dropped, the connection stays. */
export function isRefusal(e: unknown): boolean {
  return e instanceof LinkFailure && (e.reason as string) === 'queue-full';
}

export function runPipeline(o: PipelineOptions, stages: PipelineStages): Promise<FrameRecord[]> {
  const offsets = arrivalOffsets(o.scenario, o.frames, o.seed);
  const cap = o.queueCap ?? EDGE_QUEUE_CAP;
  const frames: FrameRecord[] = [];
  const waiting: FrameRecord[] = [];
  let edgeBusy = false;
  let inFlight = 0;
  let failure: { error: unknown } | undefined;
  let timer: NodeJS.Timeout | undefined;
  const t0 = performance.now();

  return new Promise<FrameRecord[]>((resolve, reject) => {
    const arrive = (at: number): FrameRecord => {
      const f = newFrame(frames.length, at);
      frames.push(f);
      return f;
    };
    const fail = (e: unknown) => {
      failure ??= { error: e };
    };
    const settled = (f: FrameRecord) => {
      try {
        stages.settled?.(f);
      } catch (e) {
        fail(e);
      }
    };
    const drop = (f: FrameRecord) => {
      f.dropped = true;
      settled(f);
    };
    const canStart = () => !failure && !edgeBusy && inFlight < o.inFlight;

    const answered = (f: FrameRecord, reply: ReplyV3) => {
      f.reply = performance.now();
      f.cloudMs = reply.cloudMs;
      f.decodeMs = reply.decodeMs ?? 0;
      f.queueMs = reply.queueMs ?? 0;
      if (reply.cloudStress) f.stress = reply.cloudStress;
    };

    const start = (f: FrameRecord) => {
      edgeBusy = true;
      inFlight++;
      f.edgeStart = performance.now();
      stages.edge(f.i).then(
        (out) => {
          edgeBusy = false;
          f.edgeEnd = out.edgeEnd;
          f.edgeMs = out.edgeMs;
          f.encodeMs = out.encodeMs;
          f.bytes = out.bytes;
          if (!out.tensor) {
            // the edge-only point: a pipeline of one stage, done when the edge is
            f.reply = out.edgeEnd;
            inFlight--;
            settled(f);
          } else if (failure) {
            // the cell has failed: nothing more goes on the wire
            inFlight--;
          } else {
            f.sent = performance.now();
            stages.cloud(out, f.i).then(
              (reply) => {
                answered(f, reply);
                inFlight--;
                settled(f);
                pump();
              },
              (e: unknown) => {
                inFlight--;
                if (isRefusal(e)) {
                  f.refused = true;
                  drop(f);
                } else fail(e);
                pump();
              },
            );
          }
          pump();
        },
        (e: unknown) => {
          edgeBusy = false;
          inFlight--;
          fail(e);
          pump();
        },
      );
    };

    const admitDue = (now: number) => {
      while (offsets && frames.length < o.frames && t0 + offsets[frames.length]! <= now) {
        const f = arrive(t0 + offsets[frames.length]!);
        if (o.scenario.kind === 'stream') {
          // the waiting frame did not start before this one arrived: the camera drops it
          for (const w of waiting.splice(0)) drop(w);
          waiting.push(f);
        } else if (waiting.length >= cap) drop(f);
        else waiting.push(f);
        // a frame that can start at its arrival does, before the next arrival is looked at
        if (canStart()) start(waiting.shift()!);
      }
    };

    function pump(): void {
      if (timer) clearTimeout(timer);
      timer = undefined;
      const now = performance.now();
      if (!failure) {
        admitDue(now);
        if (canStart() && waiting.length > 0) start(waiting.shift()!);
        // max: a frame is offered the moment a slot frees and the edge is free
        if (!offsets && canStart() && frames.length < o.frames) start(arrive(now));
      }
      const quiet = !edgeBusy && inFlight === 0;
      if (failure) {
        if (quiet) reject(failure.error);
        return;
      }
      if (quiet && waiting.length === 0 && frames.length === o.frames) {
        resolve(frames);
        return;
      }
      if (offsets && frames.length < o.frames) timer = setTimeout(pump, Math.max(0, t0 + offsets[frames.length]! - performance.now()));
    }

    pump();
  });
}

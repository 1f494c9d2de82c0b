import type { Readable, Writable } from 'node:stream';
import type { DeviceLimits } from '../../conditions/cgroup.js';
import { openChannel, encodeCell, encodeStreamCell, type FromFollower, type ToFollower } from './ipc.js';
import type { EdgeRole } from './role.js';
import type { SweepStats } from '../sweep.js';

type Start = Extract<ToFollower, { t: 'start' }>;

export interface FollowerLink {
  /** what the lab asked this follower to run */
  start: Start;
  /** this edge's part: barrier through the lab, cells to the lab */
  role: EdgeRole;
  done(stats: SweepStats): void;
  failed(message: string, early: boolean): void;
}

/**
 * The follower's end of the lab's channel (edges 1..N-1 of `dnn-edge lab NET --edges N`): waits
 * for the lab's start message; a closed stdin means the lab is gone, and the follower ends (its
 * exit undoes its stressors and shaping).
 */
export async function joinLab(input: Readable, output: Writable, labGone: () => void): Promise<FollowerLink> {
  let onStart: (s: Start) => void = () => undefined;
  const started = new Promise<Start>((resolve) => (onStart = resolve));
  const goes = new Map<string, () => void>();
  const early = new Set<string>();
  const limits: DeviceLimits = {};
  const channel = openChannel<ToFollower, FromFollower>(input, output, (m) => {
    if (m.t === 'start') {
      Object.assign(limits, m.limits);
      onStart(m);
    } else if (m.t === 'go') {
      const go = goes.get(m.key);
      if (go) go();
      else early.add(m.key);
    } else if (m.t === 'cpus') {
      limits.cpus = m.cores;
    }
  }, (line) => process.stderr.write(`${line}\n`));
  let over = false;
  void channel.closed.then(() => {
    if (!over) labGone();
  });
  const end = () => {
    over = true;
    channel.close();
  };
  const start = await started;
  const role: EdgeRole = {
    index: start.index,
    limits,
    barrier: (key) => {
      channel.send({ t: 'at', key });
      if (early.delete(key)) return Promise.resolve();
      return new Promise<void>((resolve) => goes.set(key, () => {
        goes.delete(key);
        resolve();
      }));
    },
    sink: {
      appendCell: (condition, cut, histograms, startMs, endMs, ref, codec) => {
        channel.send({ t: 'cell', cell: encodeCell(condition, cut, histograms, startMs, endMs, ref, codec) });
        return Promise.resolve();
      },
      appendStreamCell: (cell) => {
        channel.send({ t: 'cell', cell: encodeStreamCell(cell) });
        return Promise.resolve();
      },
    },
  };
  return {
    start,
    role,
    done: (s) => {
      channel.send({ t: 'done', cells: s.cells, samples: s.samples, retries: s.retries });
      end();
    },
    failed: (message, isEarly) => {
      channel.send({ t: 'failed', message, early: isEarly });
      end();
    },
  };
}

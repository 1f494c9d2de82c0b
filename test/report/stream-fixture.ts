import { join } from 'node:path';
import { NO_CONDITION, type Condition } from '../../src/conditions/condition.js';
import { ResultsWriter } from '../../src/results/log-writer.js';
import { cellHistograms, sampleMeta } from '../helpers/results.js';
import { simulate, writeScenarioFile, type Stages } from './stream-results.js';

/**
 * A network whose answer for streams is known: points a, b, c with stage times (ms) chosen so the
 * best point for one request at a time (smallest sum) is b and the best for frames/s (smallest
 * slowest stage) is c:
 *   a: edge 1,   transfer 4,   cloud 6    sum 11    slowest 6   -> 167 fps
 *   b: edge 2,   transfer 2,   cloud 5.5  sum 9.5   slowest 5.5 -> 182 fps
 *   c: edge 3.5, transfer 3.5, cloud 3.5  sum 10.5  slowest 3.5 -> 286 fps
 */
export const STREAM_STAGES: Record<string, Stages> = {
  a: { edge: 1, transfer: 4, cloud: 6 },
  b: { edge: 2, transfer: 2, cloud: 5.5 },
  c: { edge: 3.5, transfer: 3.5, cloud: 3.5 },
};
export const STREAM_CUTS = Object.keys(STREAM_STAGES);
export const STREAM_CONDITIONS: Condition[] = [{ ...NO_CONDITION }, { ...NO_CONDITION, ecpu: 50 }];

/** The single run: each cell's stages as measured one request at a time. */
export async function writeSingleRun(path: string, samples = 30): Promise<void> {
  const w = await ResultsWriter.create(path, sampleMeta('pipe', STREAM_CUTS));
  for (const condition of STREAM_CONDITIONS) {
    for (const cut of STREAM_CUTS) {
      const s = STREAM_STAGES[cut]!;
      await w.appendCell(condition, cut, cellHistograms({ ...s, total: s.edge + s.transfer + s.cloud }, samples), Date.now(), Date.now() + 1);
    }
  }
  await w.close();
}

/** A scenario run of the same network: `edges` edges (each its own simulation, one shared cloud), `frames` offered per edge; `stages`: other points. */
export function writeScenarioRun(path: string, scenario: string, opts: { edges?: number; frames?: number; inFlight?: number; stages?: Record<string, Stages> } = {}): void {
  const rate = /^(stream|server):(.+)$/.exec(scenario);
  const inFlight = opts.inFlight ?? 4;
  const stages = opts.stages ?? STREAM_STAGES;
  let seed = 1;
  const cells = STREAM_CONDITIONS.flatMap((condition) =>
    Object.keys(stages).map((cut) => ({ condition, cut, frames: simulate(new Array(opts.edges ?? 1).fill(stages[cut]!), opts.frames ?? 200, inFlight, rate ? Number(rate[2]) : null, seed++) })),
  );
  writeScenarioFile(path, sampleMeta('pipe', Object.keys(stages)), scenario, inFlight, cells);
}

/** A single run (30 samples a cell) and a scenario run of the network in `dir`: their paths. */
export async function writeRuns(dir: string, scenario: string, opts: { edges?: number; frames?: number } = {}): Promise<{ single: string; run: string }> {
  const single = join(dir, 'single.hdr');
  const run = join(dir, `${scenario.replace(/[^a-z0-9]/g, '-')}.hdr`);
  await writeSingleRun(single, 30);
  writeScenarioRun(run, scenario, opts);
  return { single, run };
}

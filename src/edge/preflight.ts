import { execa } from 'execa';
import { UserError } from '../errors.js';
import { changesAt, type Condition } from '../conditions/condition.js';
import type { DeviceLimits } from '../conditions/cgroup.js';
import type { StressorChoice } from '../conditions/stress.js';
import type { CommandNeed } from '../conditions/tools.js';
import { checkResumable } from '../results/log-writer.js';
import { zooEntry } from '../../models/index.js';
import { loadFrames, parseInputs } from '../inputs/index.js';

/**
 * Checks that can fail, run before the run makes anything (namespace, cgroup, qdisc, stressor,
 * results file): a run that cannot finish must not start.
 */

/** What decides which external commands a dnn-edge run starts. */
export interface CommandPlan {
  lab: boolean;
  shaping: boolean;
  /** --trace: the rates are replayed through one long-lived tc */
  trace: boolean;
  conditions: Condition[];
  stressor: StressorChoice;
  limits: { edge: DeviceLimits; cloud: DeviceLimits };
  slowdown?: number;
}

const usesNetem = (conditions: Condition[]) => conditions.some((c) => c.delay > 0 || c.jitter > 0 || c.loss > 0);

/**
 * The external commands this run will start, each with why (see conditions/tools.ts): checked
 * before anything else, so that a missing one is a one-line error and not a half-built lab.
 */
export function commandsNeeded(p: CommandPlan): CommandNeed[] {
  const needs: CommandNeed[] = [];
  // netns.ts: the namespace, the veth pair, the cloud started by `ip netns exec`
  if (p.lab) needs.push({ commands: ['ip'], for: "the lab's network namespace" });
  // tc.ts: the qdiscs, `ip route get` for the interface towards the cloud; checkNetem probes in `unshare -n`
  if (p.shaping) needs.push({ commands: ['ip', 'tc', ...(usesNetem(p.conditions) ? (['unshare'] as const) : [])], for: 'shaping the network' });
  // trace-replay-worker.ts: `stdbuf -oL tc -batch -`
  if (p.trace) needs.push({ commands: ['stdbuf', 'tc'], for: '--trace' });
  // stress.ts: stressors start under `setpriv --pdeathsig`; the lab's cloud stresses on this machine too
  const stressed = p.conditions.some((c) => changesAt(c, 'edge') || (p.lab && changesAt(c, 'cloud')));
  if (stressed) needs.push({ commands: ['setpriv'], for: 'the stressors' });
  // stress.ts: --stressor stress-ng refuses to fall back (the lab's cloud checks it as it starts)
  if (p.stressor === 'stress-ng' && (stressed || p.lab)) needs.push({ commands: ['stress-ng'], for: '--stressor stress-ng' });
  // keep-awake.ts: a device under a CPU time limit gets `setpriv chrt taskset` spinners
  if (p.limits.edge.cpus !== undefined || p.slowdown !== undefined || (p.lab && p.limits.cloud.cpus !== undefined)) {
    needs.push({ commands: ['setpriv', 'chrt', 'taskset'], for: 'a CPU time limit (--edge-cpus, --cloud-cpus, --edge-slowdown)' });
  }
  return needs;
}

/** netem (delay, jitter, loss) is a kernel module some kernels lack; tried in a throwaway network namespace. */
export async function checkNetem(conditions: Condition[]): Promise<void> {
  if (!usesNetem(conditions)) return;
  // unshare -n: a namespace that exists only while the probe runs; nothing to clean up
  const r = await execa('unshare', ['-n', 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], { reject: false });
  if (r.exitCode !== 0) {
    throw new UserError(
      `--delay, --jitter and --loss need the kernel's netem qdisc, which is not available here (tc: ${String(r.stderr).trim() || r.exitCode}); load it (modprobe sch_netem) or drop those levels`,
    );
  }
}

/** --resume FILE must be a results file of dnn-edge (read only: nothing is truncated yet). */
export async function checkResume(file: string | undefined): Promise<void> {
  if (file !== undefined) await checkResumable(file);
}

/**
 * --inputs files are readable images at least the model input's size (a zoo network's, at its
 * --input-shape; other model files are checked for being images here, their size as the run
 * loads them): decoded once, before the lab or anything else starts.
 */
export async function checkInputFiles(o: { inputs?: string[]; network: string; inputShape?: number[] }): Promise<void> {
  const spec = parseInputs(o.inputs);
  if (o.inputs === undefined || spec.kind === 'random') return;
  const zoo = zooEntry(o.network);
  const shape = zoo ? (o.inputShape ?? zoo.inputShape) : undefined;
  const size = shape && shape.length === 3 ? { height: shape[0]!, width: shape[1]! } : { height: 1, width: 1 };
  await loadFrames(spec, size);
}

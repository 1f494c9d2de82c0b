import { execa } from 'execa';
import { UserError } from '../errors.js';
import type { Condition } from '../conditions/condition.js';
import { checkResumable } from '../results/log-writer.js';

/**
 * Checks that can fail, run before the run makes anything (namespace, cgroup, qdisc, stressor,
 * results file): a run that cannot finish must not start.
 */

/** netem (delay, jitter, loss) is a kernel module some kernels lack; tried in a throwaway network namespace. */
export async function checkNetem(conditions: Condition[]): Promise<void> {
  if (!conditions.some((c) => c.delay > 0 || c.jitter > 0 || c.loss > 0)) return;
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

import type { StressorChoice } from '../conditions/stress.js';
import type { CommandNeed } from '../conditions/tools.js';

/**
 * The external commands dnn-cloud will surely start. Its stressors' setpriv is not among them:
 * whether the edge asks for stress is not known here, and without it they run, with a note.
 */
export function commandsNeeded(stressor: StressorChoice, cpuLimit: boolean): CommandNeed[] {
  return [
    ...(stressor === 'stress-ng' ? [{ commands: ['stress-ng'], for: '--stressor stress-ng' } satisfies CommandNeed] : []),
    // keep-awake.ts: spinners on the CPUs of a device under a CPU time limit
    ...(cpuLimit ? [{ commands: ['setpriv', 'chrt', 'taskset'], for: 'a CPU time limit (--cloud-cpus)' } satisfies CommandNeed] : []),
  ];
}

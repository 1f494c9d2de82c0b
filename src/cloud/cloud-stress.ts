import { startStress, type RunningStress, type StressorChoice } from '../conditions/stress.js';
import type { CloudStress } from './server.js';
import type { DeviceLimits } from '../conditions/cgroup.js';

/** The cloud's stressors, started on an edge's CONDITION and replaced by the next one. */
export class LocalCloudStress implements CloudStress {
  private running: RunningStress | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  /** limits: the cloud device's, when it has one (the stress is sized to them) */
  constructor(
    private readonly kind: StressorChoice,
    private readonly limits?: DeviceLimits,
  ) {}

  set(cpuPct: number, memPct: number): Promise<Record<string, unknown>> {
    // serialised: two edges asking at once must not leave two sets of stressors behind
    const next = this.queue.then(async () => {
      await this.stopNow();
      if (cpuPct === 0 && memPct === 0) return { kind: 'none', pids: [] };
      this.running = await startStress({ cpuPct, memPct }, { kind: this.kind, limits: this.limits });
      return { kind: this.running.kind, pids: this.running.pids, memBytes: this.running.memBytes };
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  stop(): Promise<void> {
    const next = this.queue.then(() => this.stopNow());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async stopNow(): Promise<void> {
    const r = this.running;
    this.running = null;
    await r?.stop();
  }
}

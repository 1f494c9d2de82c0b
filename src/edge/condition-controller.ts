import { changesAt, isShaped, type Condition } from '../conditions/condition.js';
import { applyShaping, restoreShaping, sameShaping, shapingOf, type Shaping } from '../conditions/tc.js';
import { startStress, type RunningStress, type StressorChoice } from '../conditions/stress.js';
import type { CloudLink } from './cloud-link.js';
import type { DeviceLimits } from '../conditions/cgroup.js';
import type { ConditionController } from './sweep.js';

export interface ControllerOptions {
  /** interface to shape (egress towards the cloud); null = --no-shape */
  iface: string | null;
  stressor: StressorChoice;
  link: CloudLink;
  /** the edge device's limits (stress is sized to them); read at each condition, as calibration may change them */
  limits?: DeviceLimits;
}

/**
 * Puts a condition in effect at both ends: shapes the edge's egress (only when the shaping
 * changes, so a sweep with the rate outermost touches tc once per rate), asks the cloud for its
 * stress and waits for the acknowledgement, then starts the edge's own stressors. Each step
 * resolves only once the stress is measurably running.
 */
export class EdgeConditionController implements ConditionController {
  private shaping: Shaping | null = null;
  private edgeStress: RunningStress | null = null;
  private cloudStressed = false;

  constructor(private readonly o: ControllerOptions) {}

  async apply(c: Condition): Promise<void> {
    const shaping = shapingOf(c);
    if (this.o.iface !== null && (this.shaping === null || !sameShaping(shaping, this.shaping))) {
      if (!isShaped(c)) await restoreShaping(this.o.iface);
      else await applyShaping(this.o.iface, shaping);
      this.shaping = shaping;
    }
    if (changesAt(c, 'cloud') || this.cloudStressed) {
      await this.o.link.setCloudStress(c.ccpu, c.cmem);
      this.cloudStressed = changesAt(c, 'cloud');
    }
    if (changesAt(c, 'edge')) {
      this.edgeStress = await startStress({ cpuPct: c.ecpu, memPct: c.emem }, { kind: this.o.stressor, limits: this.o.limits });
    }
  }

  async release(): Promise<void> {
    const s = this.edgeStress;
    this.edgeStress = null;
    await s?.stop();
  }

  /** End of the run: no stress anywhere, the interface's own qdisc back. */
  async close(): Promise<void> {
    await this.release();
    if (this.cloudStressed) {
      this.cloudStressed = false;
      await this.o.link.setCloudStress(0, 0).catch(() => null);
    }
    if (this.o.iface !== null && this.shaping !== null) await restoreShaping(this.o.iface);
  }
}

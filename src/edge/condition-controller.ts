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
  /** lab --edges N, edges 1..N-1: edge 0 holds the cloud's stress for every edge; this one only expects it in its RESULTs */
  sharesCloudStress?: boolean;
}

/**
 * Puts a condition in effect at both ends: shapes the edge's egress (only when the shaping
 * changes, so a sweep with the rate outermost touches tc once per rate), asks the cloud for its
 * stress and waits for the acknowledgement, then starts the edge's own stressors. Each step
 * resolves only once the stress is measurably running.
 *
 * The cloud's stress is a cloud-wide lease (docs/protocol.md): the first condition sends its
 * CONDITION even at cpu 0 mem 0, so this edge holds "no cloud stress" while it measures it and an
 * edge asking the same cloud for another stress is refused; later ones send it when it changes
 * (the lease lasts until the next CONDITION). Another edge holding a different stress stops the
 * run (ConditionConflict, exit 2) before anything of that condition is measured.
 */
export class EdgeConditionController implements ConditionController {
  private shaping: Shaping | null = null;
  private edgeStress: RunningStress | null = null;
  /** the cloud stress this edge last asked for (and was granted); null before the first condition */
  private cloudStress: { cpu: number; mem: number } | null = null;

  constructor(private readonly o: ControllerOptions) {}

  async apply(c: Condition): Promise<void> {
    const shaping = shapingOf(c);
    if (this.o.iface !== null && (this.shaping === null || !sameShaping(shaping, this.shaping))) {
      if (!isShaped(c)) await restoreShaping(this.o.iface);
      else await applyShaping(this.o.iface, shaping);
      this.shaping = shaping;
    }
    const held = this.cloudStress;
    if (this.o.sharesCloudStress) {
      this.o.link.expectCloudStress?.(c.ccpu, c.cmem);
    } else if (held === null || held.cpu !== c.ccpu || held.mem !== c.cmem) {
      // forgotten first: a refused or failed CONDITION leaves nothing this edge may count on holding
      this.cloudStress = null;
      await this.o.link.setCloudStress(c.ccpu, c.cmem);
      this.cloudStress = { cpu: c.ccpu, mem: c.cmem };
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
    const held = this.cloudStress;
    this.cloudStress = null;
    // the lease ends with the connection anyway; a stress is stopped at once rather than at the disconnect
    if (held !== null && (held.cpu > 0 || held.mem > 0)) await this.o.link.setCloudStress(0, 0).catch(() => null);
    if (this.o.iface !== null && this.shaping !== null) await restoreShaping(this.o.iface);
  }
}

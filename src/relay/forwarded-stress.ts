import type { CloudStress } from '../cloud/server.js';
import type { CloudLink } from '../edge/cloud-link.js';

/**
 * Cloud stress asked of a relay: passed on to the cloud behind it (the relay holds the cloud's
 * lease on the device's behalf), acknowledged once the cloud says it is in effect there. The
 * relay's own server leases it to its devices as a cloud would.
 */
export class ForwardedStress implements CloudStress {
  constructor(private readonly cloud: CloudLink) {}

  async set(cpuPct: number, memPct: number): Promise<Record<string, unknown>> {
    const ack = await this.cloud.setCloudStress(cpuPct, memPct);
    return { kind: ack?.stressor ?? 'none', pids: ack?.pids ?? [], at: 'cloud' };
  }

  /** Closing the link ends the relay's lease at the cloud: the cloud stops the stress itself. */
  async stop(): Promise<void> {}
}

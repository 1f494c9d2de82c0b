/**
 * Cloud stress as a cloud-wide lease (docs/protocol.md, "Cloud stress: a cloud-wide lease"). The
 * stress loads the whole cloud machine, so every connected edge measures under the same one: a
 * CONDITION is granted when no other edge holds a different stress (equal ones share it), and a
 * holder keeps it until its next CONDITION or its disconnect. Pure bookkeeping: which stress the
 * holders hold; the server applies it and counts the epochs.
 */

export interface StressLevel {
  cpu: number;
  mem: number;
}

export const NO_STRESS: StressLevel = { cpu: 0, mem: 0 };

export function sameStress(a: StressLevel, b: StressLevel): boolean {
  return a.cpu === b.cpu && a.mem === b.mem;
}

export function describeStress(s: StressLevel): string {
  return `cpu ${s.cpu} % mem ${s.mem} %`;
}

/** The outcome of a request: granted (and whether the stress to apply changed), or refused with the holders in the way. */
export type LeaseAnswer<H> = { granted: true; changed: boolean } | { granted: false; holders: H[]; held: StressLevel };

export class StressLease<H> {
  private readonly holders = new Map<H, StressLevel>();

  /** The stress the holders hold (all the same), or none when nobody holds one. */
  get target(): StressLevel {
    for (const s of this.holders.values()) return s;
    return NO_STRESS;
  }

  /** Who holds the lease now. */
  get holderList(): H[] {
    return [...this.holders.keys()];
  }

  /**
   * `holder` asks for `stress`. Refused when another holder holds a different one; a refusal also
   * ends what `holder` held (its next CONDITION ends its lease, granted or not).
   */
  request(holder: H, stress: StressLevel): LeaseAnswer<H> {
    const before = this.target;
    this.holders.delete(holder);
    const others = this.holderList;
    if (others.length > 0 && !sameStress(this.target, stress)) return { granted: false, holders: others, held: this.target };
    this.holders.set(holder, { cpu: stress.cpu, mem: stress.mem });
    return { granted: true, changed: !sameStress(before, this.target) };
  }

  /** `holder` is gone: true when the stress to apply changed (its last holder left). */
  release(holder: H): boolean {
    const before = this.target;
    if (!this.holders.delete(holder)) return false;
    return !sameStress(before, this.target);
  }
}

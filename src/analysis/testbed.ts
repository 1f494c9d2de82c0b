import { createHash } from 'node:crypto';
import type { RunMetadata } from '../results/metadata.js';

/**
 * The testbed a results file was measured on: runs merge only when it matches, so figures of a
 * Raspberry Pi are never blended with those of a VM. Pure functions of the run metadata.
 */

export interface EndIdentity {
  host: string;
  cpu: string | null;
  cores: number | null;
  backend: string | null;
  /** inference threads, when the run recorded them */
  threads: number | null;
  /** resource limits of that end (cgroup CPU/memory caps, device-class slowdown), when recorded */
  limits: unknown;
}

export interface Testbed {
  edge: EndIdentity;
  cloud: EndIdentity;
  /** the model's fingerprint (weights and graph) */
  fingerprint: string;
}

type End = RunMetadata['edge'] | RunMetadata['cloud'];

function endOf(e: End): EndIdentity {
  return {
    // the cloud is recorded as "name (address:port)"; the address of a lab or a port is not the machine
    host: e.host.replace(/ \(.*\)$/, ''),
    cpu: e.cpu ?? null,
    cores: e.cores ?? null,
    backend: e.backend ?? null,
    threads: e.threads ?? null,
    limits: e.limits ?? null,
  };
}

export function testbedOf(meta: RunMetadata): Testbed {
  return { edge: endOf(meta.edge), cloud: endOf(meta.cloud), fingerprint: meta.fingerprint };
}

/** A short stable id: the first 8 hex digits of the SHA-256 of the testbed's canonical JSON. */
export function testbedId(t: Testbed): string {
  return createHash('sha256').update(canonical(t)).digest('hex').slice(0, 8);
}

/** JSON with sorted keys, so equal testbeds give equal ids whatever the order fields were written in. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

/** What differs between two testbeds, e.g. "edge host vm vs rpi4, edge backend wasm vs cpu". */
export function testbedDifferences(a: Testbed, b: Testbed): string[] {
  const out: string[] = [];
  for (const side of ['edge', 'cloud'] as const) {
    for (const k of ['host', 'cpu', 'cores', 'backend', 'threads', 'limits'] as const) {
      const x = canonical(a[side][k]);
      const y = canonical(b[side][k]);
      if (x !== y) out.push(`${side} ${k} ${x.replace(/^"|"$/g, '')} vs ${y.replace(/^"|"$/g, '')}`);
    }
  }
  if (a.fingerprint !== b.fingerprint) out.push(`model fingerprint ${a.fingerprint.slice(0, 12)} vs ${b.fingerprint.slice(0, 12)}`);
  return out;
}

import type { ZooEntry } from './zoo-entry.js';

/** The model zoo, in the order `dnn-cut --help` lists it. */
export const ZOO: readonly ZooEntry[] = [];

export function zooEntry(name: string): ZooEntry | undefined {
  return ZOO.find((e) => e.name === name.toLowerCase());
}

export const ZOO_NAMES: readonly string[] = ZOO.map((e) => e.name);

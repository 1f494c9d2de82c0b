import { execa, type ResultPromise } from 'execa';
import { isRoot } from '../../src/conditions/proc.js';
import { NOT_IN_UNIT_LANE, UNIT_LANE } from './lane.js';

/** tap's skip option: false when root (and not in the unit lane), else the reason. */
export const NEEDS_ROOT = UNIT_LANE ? NOT_IN_UNIT_LANE : isRoot() ? false : 'needs root (network namespaces, tc, oom_score_adj): run the tests as root';

/** Resolves with the first line the child writes on stdout. */
export function firstLine(child: ResultPromise): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += String(d);
      const i = buf.indexOf('\n');
      if (i >= 0) resolve(buf.slice(0, i));
    });
    child.then((r) => reject(new Error(`child ended before reporting: ${String(r.stderr)}`)), reject);
  });
}

export async function tcShow(iface: string): Promise<string> {
  return String((await execa('tc', ['qdisc', 'show', 'dev', iface], { reject: false })).stdout);
}

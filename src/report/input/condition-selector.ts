import { CONDITION_KEYS } from '../../conditions/factors.js';
import { UserError } from '../../errors.js';
import type { ConditionReport, NetworkReport } from '../../analysis/findings.js';

/** dnn-report --condition: which condition the HTML report's second chart shows. */

/**
 * Parses a --condition selector: `key=value` pairs (tag keys: net, delay, jitter, loss, ecpu, emem,
 * ccpu, cmem...) separated by `;`, `,` or spaces, e.g. "net=10;ecpu=50". Unnamed factors match anything.
 */
export function parseConditionSelector(spec: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const part of spec.split(/[;,\s]+/).filter(Boolean)) {
    const m = /^([a-z]+)=([^=]+)$/.exec(part);
    if (!m || !(CONDITION_KEYS as readonly string[]).includes(m[1]!)) {
      throw new UserError(`--condition: '${part}' is not key=value with a key among ${CONDITION_KEYS.join(', ')} (e.g. --condition "net=10;ecpu=50")`);
    }
    pairs.set(m[1], m[2]!);
  }
  if (pairs.size === 0) throw new UserError('--condition needs at least one key=value pair, e.g. --condition "net=10;ecpu=50"');
  return pairs;
}

/** The first condition (in report order) whose key has every selected value. */
export function selectCondition(n: NetworkReport, selector: Map<string, string>): ConditionReport | undefined {
  return n.conditions.find((c) => {
    const fields = new Map(c.key.split(';').map((kv) => kv.split('=') as [string, string]));
    return [...selector].every(([k, v]) => fields.get(k) === v || Number(fields.get(k)) === Number(v));
  });
}

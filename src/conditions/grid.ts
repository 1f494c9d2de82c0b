import { readFileSync } from 'node:fs';
import { UserError } from '../errors.js';
import { NO_CONDITION, conditionKey } from './condition.js';
import { CONDITION_KEYS, FACTOR, FACTORS, type Condition, type ConditionKey } from './factors.js';

/**
 * The conditions a run measures: factor levels from flags, combined as a full factorial (the
 * published tool's design), one factor at a time, or listed in a file. Pure functions.
 */
export type Levels = { [K in ConditionKey]: Condition[K][] };

/** The published tool's grid: 3 rates × 3^4 stress levels = 243 conditions, no delay, jitter or loss. */
export const DEFAULT_LEVELS: Levels = Object.fromEntries(FACTORS.map((f) => [f.key, [...f.defaults]])) as Levels;

export type Design = 'factorial' | 'one-at-a-time';
export const DESIGNS: readonly Design[] = ['factorial', 'one-at-a-time'];

/** One level of a factor; `where` names the flag or file:line in the error message. */
export function parseLevel(key: ConditionKey, text: string, where = FACTOR[key].flag): number | null {
  const rule = FACTOR[key];
  const t = text.trim();
  if (rule.allowNone && t === 'none') return null;
  const kind = rule.integer ? 'a whole number' : 'a number';
  const hint = `${kind} of ${rule.unit} from ${rule.min}${rule.minExclusive ? ' (exclusive)' : ''} to ${rule.max}${rule.allowNone ? ", or 'none' for an unshaped link" : ''}`;
  if (!(rule.integer ? /^\d+$/ : /^\d+(\.\d+)?$/).test(t)) throw new UserError(`${where}: '${text}' is not ${hint}`);
  const v = Number(t);
  if (v < rule.min || v > rule.max || (rule.minExclusive && v === rule.min)) throw new UserError(`${where}: ${v} is out of range, give ${hint}`);
  return v;
}

/** A comma-separated level list, e.g. `--net 50,25,10`. */
export function parseLevels<K extends ConditionKey>(key: K, text: string): Condition[K][] {
  const flag = FACTOR[key].flag;
  const parts = text.split(',');
  if (parts.some((p) => p.trim() === '')) throw new UserError(`${flag}: '${text}' has an empty level; give levels separated by commas, e.g. ${flag} ${DEFAULT_LEVELS[key].join(',')}`);
  const levels = parts.map((p) => parseLevel(key, p)) as Condition[K][];
  const seen = new Set<Condition[K]>();
  for (const v of levels) {
    if (seen.has(v)) throw new UserError(`${flag}: level ${v ?? 'none'} is listed twice`);
    seen.add(v);
  }
  return levels;
}

/** Levels from flag values; factors without a flag keep their defaults. */
export function levelsFrom(flags: Partial<Record<ConditionKey, string>>, defaults: Levels = DEFAULT_LEVELS): Levels {
  const levels = { ...defaults };
  for (const key of CONDITION_KEYS) {
    const text = flags[key];
    if (text !== undefined) (levels as Record<ConditionKey, unknown>)[key] = parseLevels(key, text);
  }
  return levels;
}

/** The first level of every factor. */
export function baselineOf(levels: Levels): Condition {
  const c = { ...NO_CONDITION };
  for (const key of CONDITION_KEYS) (c as Record<ConditionKey, number | null>)[key] = levels[key][0]!;
  return c;
}

/**
 * Every combination of levels. The first factor (the network rate) is the outermost loop, so the
 * qdisc changes as rarely as possible; the stress factors vary fastest.
 */
export function fullFactorial(levels: Levels): Condition[] {
  let out: Condition[] = [baselineOf(levels)];
  for (const key of CONDITION_KEYS) {
    out = out.flatMap((c) => levels[key].map((v) => ({ ...c, [key]: v })));
  }
  return out;
}

/** The baseline once, then each factor's other levels with every other factor at its baseline. */
export function oneAtATime(levels: Levels): Condition[] {
  const baseline = baselineOf(levels);
  const out = [baseline];
  for (const key of CONDITION_KEYS) {
    for (const v of levels[key].slice(1)) out.push({ ...baseline, [key]: v });
  }
  return out;
}

export function conditionsFor(levels: Levels, design: Design): Condition[] {
  return design === 'factorial' ? fullFactorial(levels) : oneAtATime(levels);
}

/**
 * One condition per line in the result-tag syntax, e.g. `net=10;ecpu=50`; keys left out take the
 * value of `baseline` (by default: unshaped network, no delay, jitter, loss or stress).
 * `#` starts a comment; blank lines are ignored. Errors name file:line.
 */
export function parseConditionsFile(text: string, file: string, baseline: Condition = NO_CONDITION): Condition[] {
  const out: Condition[] = [];
  const firstLine = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const where = `${file}:${i + 1}`;
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const { condition: c } = parseConditionLine(line, where, baseline);
    const k = conditionKey(c);
    const first = firstLine.get(k);
    if (first !== undefined) throw new UserError(`${where}: repeats the condition of line ${first}`);
    firstLine.set(k, i + 1);
    out.push(c);
  });
  if (out.length === 0) throw new UserError(`${file}: lists no conditions; write one per line, e.g. net=10;ecpu=50`);
  return out;
}

/**
 * One line in the tag syntax, e.g. `net=10;ecpu=50`: factors not named keep their value in `base`.
 * `extra` keys (e.g. a trace's `t`) are accepted and returned as text. Errors start with `where`.
 */
export function parseConditionLine(line: string, where: string, base: Condition, extra: readonly string[] = []): { condition: Condition; extra: Map<string, string> } {
  const c: Condition = { ...base };
  const given = new Set<string>();
  const extras = new Map<string, string>();
  for (const part of line.split(';')) {
    if (part.trim() === '') continue;
    const m = /^\s*([a-z]+)\s*=(.*)$/.exec(part);
    if (!m) throw new UserError(`${where}: '${part.trim()}' is not key=value; write e.g. ${extra.map((k) => `${k}=0;`).join('')}net=10;ecpu=50`);
    const key = m[1]!;
    if (given.has(key)) throw new UserError(`${where}: key '${key}' is given twice`);
    given.add(key);
    if (extra.includes(key)) {
      extras.set(key, m[2]!.trim());
      continue;
    }
    if (!(CONDITION_KEYS as readonly string[]).includes(key)) throw new UserError(`${where}: unknown key '${key}'; keys are ${[...extra, ...CONDITION_KEYS].join(', ')}`);
    (c as Record<ConditionKey, number | null>)[key as ConditionKey] = parseLevel(key as ConditionKey, m[2]!, `${where}: ${key}`);
  }
  return { condition: c, extra: extras };
}

/** A file named by a flag, or a UserError naming the flag and the reason. */
export function readInputFile(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`${flag}: cannot read '${path}' (${(e as NodeJS.ErrnoException).code ?? String(e)}); check the path`);
  }
}

export function readConditionsFile(path: string, baseline: Condition = NO_CONDITION): Condition[] {
  return parseConditionsFile(readInputFile(path, '--conditions'), path, baseline);
}

/**
 * The condition factors: the one list every spelling of a factor comes from. Result tags and
 * conditions files use `key`, the report's JSON and CSV use `field`, dnn-edge takes `flag`, the
 * report prints `label`; validation, default levels, "which level is favourable" and "which end
 * applies it" are read from here too.
 *
 * Adding a factor: one entry below, plus the code that applies it (tc for the link, a stressor or
 * limit for an end). Everything else (Condition, flags, tags, report columns, sensitivity) follows.
 */

/**
 * Who puts a factor into effect: the edge's egress qdisc (link), the edge itself or the cloud; in a
 * three-tier run (`--tiers 3`) the device's link to the edge tier (`device-link`, shaped by the lab).
 */
export type FactorEnd = 'link' | 'device-link' | 'edge' | 'cloud';

export interface FactorSpec {
  /** key in result tags, conditions files and report selectors (`net=10;ecpu=50`) */
  readonly key: string;
  /** column name in the report's JSON and CSV */
  readonly field: string;
  /** dnn-edge flag that sets its levels */
  readonly flag: string;
  /** name of the flag's value in --help */
  readonly arg: string;
  /** --help text of the flag, without the default */
  readonly help: string;
  /** what applies it, named in --help when users may need to know (e.g. netem) */
  readonly via?: string;
  /** short human label in report tables and charts */
  readonly label: string;
  readonly unit: string;
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  /** `min` itself is not a level (a rate of 0 would never deliver) */
  readonly minExclusive?: boolean;
  /** `none` is a level: the factor is left as the machine has it (an unshaped link) */
  readonly allowNone?: boolean;
  /** the level of a run that does not apply this factor */
  readonly neutral: number | null;
  /** favourable direction: a faster link ('higher'; none = unshaped counts as the fastest), or less delay, loss, stress ('lower') */
  readonly better: 'higher' | 'lower';
  /** levels measured when the flag is not given (the published tool's grid) */
  readonly defaults: readonly (number | null)[];
  readonly end: FactorEnd;
  /**
   * written (tags, conditions keys, report columns) only away from its neutral level, so runs that
   * never set it (two tiers) read and write exactly what they did before it existed
   */
  readonly optional?: boolean;
}

const PERCENT = { unit: '%', min: 0, max: 100, integer: true, neutral: 0, better: 'lower', defaults: [0, 50, 100] } as const;

/**
 * In result-tag order: the network first (the outermost loop of a sweep), then the stress factors, then
 * the device link of three-tier runs (last, so the keys of two-tier runs are unchanged).
 */
export const FACTORS = [
  {
    key: 'net', field: 'net_mbit', flag: '--net', arg: 'mbits', help: 'network rate levels in Mbit/s, or none', label: 'network Mbit/s',
    unit: 'Mbit/s', min: 0, max: 100_000, integer: false, minExclusive: true, allowNone: true, neutral: null, better: 'higher', defaults: [50, 25, 10], end: 'link',
  },
  {
    key: 'delay', field: 'delay_ms', flag: '--delay', arg: 'ms', help: 'added one-way delay levels in ms', via: 'netem', label: 'delay ms',
    unit: 'ms', min: 0, max: 60_000, integer: false, neutral: 0, better: 'lower', defaults: [0], end: 'link',
  },
  {
    key: 'jitter', field: 'jitter_ms', flag: '--jitter', arg: 'ms', help: 'delay jitter levels in ms', via: 'netem', label: 'jitter ms',
    unit: 'ms', min: 0, max: 60_000, integer: false, neutral: 0, better: 'lower', defaults: [0], end: 'link',
  },
  {
    key: 'loss', field: 'loss_pct', flag: '--loss', arg: 'pct', help: 'packet loss levels in %', via: 'netem', label: 'loss %',
    unit: '%', min: 0, max: 99, integer: false, neutral: 0, better: 'lower', defaults: [0], end: 'link',
  },
  { key: 'ecpu', field: 'edge_cpu', flag: '--edge-cpu', arg: 'pct', help: 'edge CPU stress levels in %', label: 'edge CPU %', ...PERCENT, end: 'edge' },
  { key: 'emem', field: 'edge_mem', flag: '--edge-mem', arg: 'pct', help: 'edge memory stress levels, % of available memory', label: 'edge memory %', ...PERCENT, end: 'edge' },
  { key: 'ccpu', field: 'cloud_cpu', flag: '--cloud-cpu', arg: 'pct', help: 'cloud CPU stress levels in %', label: 'cloud CPU %', ...PERCENT, end: 'cloud' },
  { key: 'cmem', field: 'cloud_mem', flag: '--cloud-mem', arg: 'pct', help: 'cloud memory stress levels, % of available memory', label: 'cloud memory %', ...PERCENT, end: 'cloud' },
  {
    key: 'dnet', field: 'device_net_mbit', flag: '--device-net', arg: 'mbits', help: 'with --tiers 3: device->edge link rate levels in Mbit/s, or none', label: 'device link Mbit/s',
    unit: 'Mbit/s', min: 0, max: 100_000, integer: false, minExclusive: true, allowNone: true, neutral: null, better: 'higher', defaults: [null], end: 'device-link', optional: true,
  },
] as const satisfies readonly FactorSpec[];

type FactorDef = (typeof FACTORS)[number];
/** A level of factor D: a number, or null ('none') where the factor allows it. */
type LevelOf<D> = D extends { allowNone: true } ? number | null : number;

/** Tag key of a factor: net, delay, jitter, loss, ecpu, emem, ccpu, cmem. */
export type ConditionKey = FactorDef['key'];
/** JSON/CSV name of a factor: net_mbit, delay_ms, ..., cloud_mem. */
export type FactorName = FactorDef['field'];

/**
 * One operational condition under which every partition point is measured: one level per factor.
 * Network: rate in Mbit/s (null = not shaped, the link as it is), netem delay/jitter in ms, loss in %.
 * Stress: percent levels; CPU P % = one worker per core at P % duty cycle,
 * memory P % = allocate and hold P % of the memory available when the condition starts.
 */
export type Condition = { [D in FactorDef as D['key']]: LevelOf<D> };
/** A condition under the report's JSON names; net_mbit null = not shaped (the fastest). */
export type Factors = { [D in FactorDef as D extends { optional: true } ? never : D['field']]: LevelOf<D> } & {
  [D in FactorDef as D extends { optional: true } ? D['field'] : never]?: LevelOf<D>;
};

/** Keys in the order they appear in result tags. */
export const CONDITION_KEYS: readonly ConditionKey[] = FACTORS.map((f) => f.key);

/** A factor's descriptor by its tag key. */
export const FACTOR = Object.fromEntries(FACTORS.map((f) => [f.key, f])) as unknown as { readonly [K in ConditionKey]: FactorSpec };

/** The factors one end applies, in tag order. */
export function factorsAppliedBy(end: FactorEnd): ConditionKey[] {
  return FACTORS.filter((f) => f.end === end).map((f) => f.key);
}

/** The stress factors (the ends' CPU and memory), edge then cloud, in tag order: a condition's stress level. */
export const STRESS_FACTORS: readonly ConditionKey[] = [...factorsAppliedBy('edge'), ...factorsAppliedBy('cloud')];

/** The flag's --help text: what it sets, then what applies it and the default levels. */
export function flagHelp(f: FactorSpec): string {
  return `${f.help} (${f.via ? `${f.via}; ` : ''}default: ${f.defaults.map((v) => v ?? 'none').join(',')})`;
}

/**
 * Orders two levels of a factor from the most favourable: for a 'higher' factor (the network rate)
 * the fastest first, none (not shaped) counting as the fastest; for the others the lowest first.
 */
export function compareLevel(key: ConditionKey, a: number | null, b: number | null): number {
  if (FACTOR[key].better === 'higher') {
    if (a === b) return 0;
    if (a === null) return -1;
    if (b === null) return 1;
    return b - a;
  }
  return (a ?? 0) - (b ?? 0);
}

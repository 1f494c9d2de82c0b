import { type Static, Type } from '@sinclair/typebox';
import { type Checker, checker } from '../formats/check.js';

/**
 * The line a raced sweep (`dnn-edge --race`) writes for a point it stopped sampling early in a
 * condition: one `#dnn-raced` line just before the cell's histogram lines, in the same fsynced write.
 * The cell keeps the samples it has (fewer than --reps); the line says when and why it was dropped.
 * Cells of points that survived the race have all --reps samples and no such line. HdrHistogram's
 * readers skip it as a comment. The schema is its one definition (types, checks on read,
 * docs/results-format.md).
 */
export const RACED_PREFIX = '#dnn-raced ';

/** Why a point left the race. */
export const RACE_RULES = ['significance', 'gap', 'prior'] as const;
export type RaceRule = (typeof RACE_RULES)[number];

export const RacedLineSchema = Type.Object({
  cell: Type.String({ description: 'the cell: its histograms\' tag without `;metric=...` (condition, cut, codec, ref)' }),
  samples: Type.Integer({ minimum: 1, description: 'samples the cell holds (it was dropped after this many; --reps is in the metadata)' }),
  best: Type.String({ description: 'the arm that was the condition\'s fastest when this one was dropped (the arm label: POINT or POINT@CODEC)' }),
  rule: Type.Union(
    RACE_RULES.map((r) => Type.Literal(r)),
    {
      description:
        'significance: significantly slower than `best` (the report\'s tie-set test, its rank interval, corrected over the points still in the race and, stricter, over the race\'s looks); gap: even its fastest sample was above `gap` times the slowest of `best`, a gap the run\'s measured noise makes (for a point no slower than `best`) less likely than the race\'s error rate split over its points and looks; prior: the cost model fitted on the conditions already measured (in a condition it cannot predict, the run\'s first, the pilot: each arm\'s warm-up in the condition) predicted it far slower than the best and its first sample(s) agreed',
    },
  ),
  /** how much slower than the best, with the interval the rule used (fractions: 0.5 = 50 % slower) */
  slower: Type.Number({ description: 'estimated (this / best - 1) when dropped, from the samples so far' }),
  low: Type.Optional(Type.Number({ description: 'the interval\'s lower end (significance rule)' })),
  high: Type.Optional(Type.Number({ description: 'the interval\'s upper end (significance rule)' })),
  gap: Type.Optional(Type.Number({ description: 'gap rule: the factor g its fastest sample exceeded over the slowest sample of `best` (from the run\'s noise: larger with fewer samples)' })),
  predicted: Type.Optional(Type.Number({ description: 'prior rule: the predicted total of this arm (the cost model\'s, or the pilot\'s: its warm-up) / the predicted best\'s' })),
  reason: Type.String({ description: 'one human-readable sentence: when and why' }),
});
export type RacedLine = Static<typeof RacedLineSchema>;

const fix = 'the line is skipped (docs/results-format.md lists every field)';
export const racedLineChecker: Checker<typeof RacedLineSchema> = checker({ what: '#dnn-raced', schema: RacedLineSchema, fix });

/** The line as written (newline included). */
export function racedLineText(l: RacedLine): string {
  return `${RACED_PREFIX}${JSON.stringify(l)}\n`;
}

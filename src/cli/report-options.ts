import { Option } from 'commander';
import { makeProgram, maxAgreementLossOption, parseArgv } from './common.js';
import { UserError } from '../errors.js';
import { parseConditionSelector } from '../report/input/condition-selector.js';
import { STATISTICS, type Statistic } from '../analysis/cells.js';
import { DEFAULT_HINDSIGHT_WINDOW_S } from '../analysis/hindsight.js';
import { parsePredictSpec, type PredictLevels } from '../analysis/cost-model.js';

export const REPORT_FORMATS = ['table', 'csv', 'json', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** What dnn-report's arguments ask for, checked. */
export interface ReportOptions {
  files: string[];
  format: ReportFormat;
  out?: string;
  metric: Statistic;
  deployed?: string;
  minGain: number;
  confidence: number;
  legacy: string[];
  condition?: Map<string, string>;
  /** --predict: factor levels to predict from a cost model fitted on the results */
  predict?: PredictLevels;
  /** --max-agreement-loss: percentage points of top-1 agreement with f32 an encoded (point, codec) arm may lose (absent: DEFAULT_MAX_AGREEMENT_LOSS) */
  maxAgreementLoss?: number;
  /** --hindsight-window: seconds per window of adaptive runs' hindsight best */
  hindsightWindow: number;
  /** --check: list each plan's present, missing and duplicated cells instead of reporting */
  check: boolean;
}

function parseMinGain(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new UserError(`--min-gain must be a non-negative fraction (0.05 = 5 %), got '${v}'`);
  return n;
}

function parseConfidence(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0.5 || n >= 1) throw new UserError(`--confidence must be a fraction between 0.5 and 1 (0.95 = 95 %), got '${v}'`);
  return n;
}

function parseHindsightWindow(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UserError(`--hindsight-window must be a positive number of seconds (e.g. 5), got '${v}'`);
  return n;
}

/** dnn-report's arguments (process.argv.slice(2)) -> checked options. Mistakes are UserErrors, --help a HelpRequested. */
export function parseReportOptions(argv: readonly string[]): ReportOptions {
  const program = makeProgram('dnn-report', 'Best partition point per condition, and where the deployed point must move, from dnn-edge results files or the published tool\'s outputs.')
    .argument('[files...]', 'results files (.hdr) written by dnn-edge; histograms of the same network, testbed, condition, point and metric are merged')
    .addOption(new Option('--format <format>', 'output format').choices([...REPORT_FORMATS]).default('table'))
    .option('--out <file>', 'write the report to FILE instead of standard output')
    .addOption(new Option('--metric <statistic>', 'latency statistic that ranks the points').choices([...STATISTICS]).default('p50'))
    .option('--deployed <cut>', 'the deployed partition point; a three-tier run: the configuration "x|y" (default: the best under the baseline condition)')
    .option('--min-gain <fraction>', 'smallest gain that justifies repartitioning (0.05 = 5 %)', parseMinGain, 0.05)
    .option('--confidence <fraction>', 'a move counts only when the best point is faster than the deployed one at this confidence (0.95 = 95 %), corrected for picking the best of the points', parseConfidence, 0.95)
    .addOption(maxAgreementLossOption())
    .option('--condition <selector>', 'html: the condition of the second bar chart, e.g. "net=10;ecpu=50" (default: the largest gain)', parseConditionSelector)
    .option('--predict <grid>', 'predict conditions that were not measured from a cost model fitted on the results, e.g. "net=5,2,1;delay=0,20" (lists expand to every combination); a three-tier run: its link rates, e.g. "dnet=20,5;net=5"', parsePredictSpec)
    .option('--hindsight-window <s>', "adaptive runs: seconds per window of the hindsight best (per window the fastest static policy) and of the bootstrap intervals", parseHindsightWindow, DEFAULT_HINDSIGHT_WINDOW_S)
    .option('--check', 'check the plans of the files instead of reporting: cells present, missing (with the shard that owes them) and duplicated; exit 1 when a plan is incomplete')
    .option('--legacy <dir>', "read the published tool's outputs (outputs_<model>/weights_ABCDE.txt); repeatable", (v: string, acc: string[]) => [...acc, v], [] as string[]);
  parseArgv(program, argv);
  const o = program.opts<Omit<ReportOptions, 'files' | 'check'> & { check?: boolean }>();
  const files = program.args;
  if (o.check && files.length === 0) throw new UserError('--check needs results files (.hdr), e.g. dnn-report --check results/*.hdr');
  if (files.length === 0 && o.legacy.length === 0) throw new UserError('no input: give results files (e.g. results/*.hdr) or --legacy DIR');
  return { files, ...o, check: Boolean(o.check) };
}

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Option } from 'commander';
import { UserError } from '../errors.js';
import { buildReport } from '../report/build.js';
import { formatCsv } from '../report/format-csv.js';
import { formatHtml } from '../report/format-html.js';
import { formatJson } from '../report/format-json.js';
import { formatTable } from '../report/format-table.js';
import { readLegacyDir } from '../report/legacy.js';
import { checkFiles, loadResultFiles } from '../report/load.js';
import { formatChecks } from '../report/plans.js';
import { parseConditionSelector, selectCondition } from '../report/labels.js';
import { STATISTICS, type NetworkData, type Report, type Statistic } from '../report/model.js';
import { makeProgram } from './common.js';
import { runMain } from './run-main.js';

const FORMATS = {
  table: (r: Report) => formatTable(r),
  csv: (r: Report) => formatCsv(r),
  json: (r: Report) => formatJson(r),
  html: (r: Report, o: Options) => formatHtml(r, { condition: o.condition }),
} satisfies Record<string, (r: Report, o: Options) => string>;
type Format = keyof typeof FORMATS;

interface Options {
  format: Format;
  out?: string;
  metric: Statistic;
  deployed?: string;
  minGain: number;
  legacy: string[];
  condition?: Map<string, string>;
  check?: boolean;
}

function parseMinGain(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new UserError(`--min-gain must be a non-negative fraction (0.05 = 5 %), got '${v}'`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const program = makeProgram('dnn-report', 'Best partition point per condition, and where the deployed point must move, from dnn-edge results files or the published tool\'s outputs.')
    .argument('[files...]', 'results files (.hdr) written by dnn-edge; histograms of the same network, condition, point and metric are merged')
    .addOption(new Option('--format <format>', 'output format').choices(Object.keys(FORMATS)).default('table'))
    .option('--out <file>', 'write the report to FILE instead of standard output')
    .addOption(new Option('--metric <statistic>', 'latency statistic that ranks the points').choices([...STATISTICS]).default('p50'))
    .option('--deployed <cut>', 'the deployed partition point (default: the best point under the baseline condition)')
    .option('--min-gain <fraction>', 'smallest gain that justifies repartitioning (0.05 = 5 %)', parseMinGain, 0.05)
    .option('--condition <selector>', 'html: the condition of the second bar chart, e.g. "net=10;ecpu=50" (default: the largest gain)', parseConditionSelector)
    .option('--check', 'check the plans of the files instead of reporting: cells present, missing (with the shard that owes them) and duplicated; exit 1 when a plan is incomplete')
    .option('--legacy <dir>', "read the published tool's outputs (outputs_<model>/weights_ABCDE.txt); repeatable", (v: string, acc: string[]) => [...acc, v], [] as string[]);
  program.parse(argv);
  const opts = program.opts<Options>();
  const files = program.args;
  if (files.length === 0 && opts.legacy.length === 0) {
    throw new UserError('no input: give results files (e.g. results/*.hdr) or --legacy DIR');
  }

  if (opts.check) {
    if (files.length === 0) throw new UserError('--check needs results files (.hdr), e.g. dnn-report --check results/*.hdr');
    const result = checkFiles(files);
    process.stdout.write(formatChecks(result));
    return result.complete ? 0 : 1;
  }

  const networks: NetworkData[] = [];
  const problems: string[] = [];
  if (files.length) {
    const loaded = loadResultFiles(files);
    networks.push(...loaded.networks);
    problems.push(...loaded.problems);
  }
  for (const dir of opts.legacy) {
    const legacy = readLegacyDir(dir);
    networks.push(...legacy.networks);
    problems.push(...legacy.problems);
  }
  for (const p of problems) process.stderr.write(`dnn-report: ${p}\n`);
  if (networks.length === 0) throw new UserError(`no usable data in the input (${problems.length} problem(s) above)`);

  const report = buildReport(networks, { metric: opts.metric, deployed: opts.deployed, minGain: opts.minGain }, problems);
  if (opts.condition && !report.networks.some((n) => selectCondition(n, opts.condition!))) {
    throw new UserError(`--condition: no condition matches ${[...opts.condition].map(([k, v]) => `${k}=${v}`).join(';')}`);
  }
  const text = FORMATS[opts.format](report, opts);
  if (opts.out) {
    await mkdir(dirname(opts.out), { recursive: true });
    await writeFile(opts.out, text);
    process.stderr.write(`dnn-report: wrote ${opts.out}\n`);
  } else {
    process.stdout.write(text);
  }
  return 0;
}

// `dnn-report ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
runMain('dnn-report', () => main(process.argv));

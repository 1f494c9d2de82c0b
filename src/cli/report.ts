import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UserError } from '../errors.js';
import { buildReport } from '../analysis/build-report.js';
import { formatCsv } from '../report/format/csv.js';
import { formatHtml } from '../report/format/html.js';
import { formatJson } from '../report/format/json.js';
import { formatTable } from '../report/format/table.js';
import { readLegacyDir } from '../report/input/legacy.js';
import { checkFiles } from '../report/input/check-files.js';
import { loadResultFiles } from '../analysis/load-results.js';
import { formatChecks } from '../report/format/checks.js';
import { selectCondition } from '../report/input/condition-selector.js';
import type { NetworkData } from '../analysis/cells.js';
import type { Report } from '../analysis/findings.js';
import { parseReportOptions, type ReportFormat, type ReportOptions } from './report-options.js';
import { runMain } from './run-main.js';

const FORMATS = {
  table: (r: Report) => formatTable(r),
  csv: (r: Report) => formatCsv(r),
  json: (r: Report) => formatJson(r),
  html: (r: Report, o: ReportOptions) => formatHtml(r, { condition: o.condition }),
} satisfies Record<ReportFormat, (r: Report, o: ReportOptions) => string>;

async function main(argv: string[]): Promise<number> {
  const opts = parseReportOptions(argv);
  const files = opts.files;
  if (opts.check) {
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

  const report = buildReport(networks, { metric: opts.metric, deployed: opts.deployed, minGain: opts.minGain, confidence: opts.confidence, predict: opts.predict, maxAgreementLoss: opts.maxAgreementLoss, hindsightWindowS: opts.hindsightWindow }, problems);
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
runMain('dnn-report', () => main(process.argv.slice(2)));

import t from 'tap';
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { HistogramLogReader, HistogramLogWriter } from 'hdr-histogram-js';
import { NO_CONDITION, type Condition } from '../../src/conditions/condition.js';
import { UserError } from '../../src/errors.js';
import { cellText, newLatencyHistogram } from '../../src/results/log-lines.js';
import { ResultsFileError, readResultsFile } from '../../src/results/log-reader.js';
import { type LogFile, ResultsWriter, openLogFile } from '../../src/results/log-writer.js';
import { META_PREFIX } from '../../src/results/metadata.js';
import { METRICS, cellKey, formatTag } from '../../src/results/tags.js';
import { cellHistograms, sampleMeta } from '../helpers/results.js';

const meta = sampleMeta('lenet', ['conv1', 'pool1', 'dense1']);
const slow: Condition = { ...NO_CONDITION, net: 10, ecpu: 50 };
const ms = (total: number) => ({ edge: total * 0.3, transfer: total * 0.2, cloud: total * 0.5, total });

async function writeCells(path: string, n: number): Promise<void> {
  const w = await ResultsWriter.create(path, meta);
  const t0 = Date.now();
  for (let i = 0; i < n; i++) {
    const cond = i % 2 ? slow : NO_CONDITION;
    await w.appendCell(cond, meta.cuts[i % 3]!.layer, cellHistograms(ms(10 + i)), t0 + i * 1000, t0 + 500 + i * 1000);
  }
  await w.close();
}

t.test('round trip: writer -> our reader and hdr-histogram-js HistogramLogReader', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'sub', 'run.hdr'); // also checks mkdir -p
  await writeCells(path, 3);
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  t.ok(lines[0]!.startsWith(META_PREFIX), 'first line is the metadata');
  t.match(lines[2], /^#\[StartTime: \d+\.\d{3} \(seconds since epoch\)/);
  t.match(lines[3], /^#\[BaseTime: \d+\.\d{3} \(seconds since epoch\)\]$/);
  t.equal(lines[4], '"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"');
  t.match(lines[5], /^Tag=net=none;delay=0;jitter=0;loss=0;ecpu=0;emem=0;ccpu=0;cmem=0;cut=conv1;metric=edge,\d+\.\d{3},0\.500,\d+\.\d{3},HISTF/);

  const file = readResultsFile(path);
  t.same(file.warnings, []);
  t.equal(file.meta?.network, 'lenet');
  t.equal(file.cells.length, 12);
  const second = file.cells.filter((c) => c.tag.cut === 'pool1');
  t.same(second.map((c) => c.tag.metric), METRICS);
  t.same(second[0]!.tag.condition, slow);
  const total = second[3]!;
  t.equal(total.histogram.totalCount, 20);
  t.ok(Math.abs(total.histogram.mean - 11_000) < 50, `mean ${total.histogram.mean} µs ~ 11 ms`);
  t.ok(Math.abs(total.startMs - file.cells[0]!.startMs - 1000) <= 1, 'start time kept to the ms');
  t.ok(Math.abs(total.endMs - total.startMs - 500) <= 1, 'interval length kept');

  const lib = new HistogramLogReader(text);
  const seen: string[] = [];
  for (let h = lib.nextIntervalHistogram(); h; h = lib.nextIntervalHistogram()) {
    seen.push(h.tag);
    t.equal(h.totalCount, 20);
    t.ok(Math.abs(h.startTimeStampMsec - file.cells[seen.length - 1]!.startMs) <= 1, 'same absolute start time');
  }
  t.same(seen, file.cells.map((c) => formatTag(c.tag)), 'hdr-histogram-js reads the same tags in the same order');
});

t.test('create refuses to overwrite an existing file', async (t) => {
  const path = join(t.testdir({ 'run.hdr': 'precious' }), 'run.hdr');
  await t.rejects(ResultsWriter.create(path, meta), { name: 'UserError', message: /already exists.*--resume/ });
  t.equal(readFileSync(path, 'utf8'), 'precious');
});

t.test('each cell is one write followed by fsync', async (t) => {
  const path = join(t.testdir(), 'run.hdr');
  const ops: string[] = [];
  const watched = async (p: string, flags: 'wx' | 'a'): Promise<LogFile> => {
    const real = await openLogFile(p, flags);
    return {
      append: async (text) => {
        ops.push(`write ${text.split('\n').length - 1} lines`);
        await real.append(text);
      },
      sync: async () => {
        ops.push('fsync');
        await real.sync();
      },
      close: () => real.close(),
    };
  };
  const w = await ResultsWriter.create(path, meta, watched);
  for (const cut of ['conv1', 'pool1']) void w.appendCell(NO_CONDITION, cut, cellHistograms(ms(5)), 0, 1);
  await w.close();
  t.same(ops, ['write 5 lines', 'fsync', 'write 4 lines', 'fsync', 'write 4 lines', 'fsync']);
});

t.test('a gzipped results file (an archived run) reads as the plain one; damaged gzip and resume refused in one line', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'run.hdr');
  await writeCells(path, 3);
  const gz = join(dir, 'run.hdr.gz');
  writeFileSync(gz, gzipSync(readFileSync(path)));
  const plain = readResultsFile(path);
  const zipped = readResultsFile(gz);
  t.same(zipped.meta, plain.meta);
  t.same(zipped.cells.map((c) => [formatTag(c.tag), c.histogram.totalCount, c.histogram.mean]), plain.cells.map((c) => [formatTag(c.tag), c.histogram.totalCount, c.histogram.mean]));
  const damaged = join(dir, 'damaged.hdr.gz');
  writeFileSync(damaged, readFileSync(gz).subarray(0, 60));
  t.throws(() => readResultsFile(damaged), { name: 'ResultsFileError', message: /damaged\.hdr\.gz: a damaged gzip file .*gzip -t/ });
  await t.rejects(ResultsWriter.resume(gz), new UserError(`cannot resume ${gz}: it is gzipped; gunzip it and resume the .hdr file`));
});

t.test('resume keeps complete cells and cuts a torn tail', async (t) => {
  const path = join(t.testdir(), 'run.hdr');
  await writeCells(path, 3);
  const intact = readFileSync(path, 'utf8');
  // a 4th cell killed mid-write: two whole lines and part of the third
  const torn = cellText(0, slow, 'dense1', cellHistograms(ms(3)), 0, 1);
  const cutAt = torn.split('\n').slice(0, 2).join('\n').length + 30;
  appendFileSync(path, torn.slice(0, cutAt));

  const { writer, done, meta: m, dropped } = await ResultsWriter.resume(path);
  t.equal(m.network, 'lenet');
  t.same([...done].sort(), [cellKey(NO_CONDITION, 'conv1'), cellKey(slow, 'pool1'), cellKey(NO_CONDITION, 'dense1')].sort());
  t.equal(dropped.lines, 3);
  t.equal(readFileSync(path, 'utf8'), intact, 'the file is back to its last complete cell');
  await writer.appendCell(slow, 'dense1', cellHistograms(ms(3)), Date.now(), Date.now() + 10);
  await writer.close();

  const file = readResultsFile(path);
  t.same(file.warnings, []);
  t.equal(file.cells.length, 16);
  const lib = new HistogramLogReader(readFileSync(path, 'utf8'));
  let n = 0;
  while (lib.nextIntervalHistogram()) n++;
  t.equal(n, 16, 'still a valid HdrHistogram log');
});

t.test('resume: a corrupt last cell is dropped, damage in the middle is refused', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'run.hdr');
  await writeCells(path, 2);
  const lines = readFileSync(path, 'utf8').split('\n');
  const last = lines.length - 2;
  lines[last] = lines[last]!.slice(0, -12) + '!!!!' + lines[last]!.slice(-8);
  writeFileSync(path, lines.join('\n'));
  const r = await ResultsWriter.resume(path);
  await r.writer.close();
  t.equal(r.done.size, 1);
  t.equal(r.dropped.lines, 4);

  const mid = join(dir, 'mid.hdr');
  await writeCells(mid, 3);
  const ml = readFileSync(mid, 'utf8').split('\n');
  ml.splice(6, 1); // cell 1 loses a metric, cells 2 and 3 follow
  writeFileSync(mid, ml.join('\n'));
  await t.rejects(ResultsWriter.resume(mid), { name: 'UserError', message: /line 6 is damaged but complete cells follow/ });
});

t.test('resume a file killed while writing its header', async (t) => {
  const path = join(t.testdir(), 'run.hdr');
  writeFileSync(path, `${META_PREFIX}${JSON.stringify(meta)}\n#[Histogram log for`);
  const r = await ResultsWriter.resume(path);
  t.equal(r.done.size, 0);
  await r.writer.appendCell(NO_CONDITION, 'conv1', cellHistograms(ms(1)), Date.now(), Date.now() + 1);
  await r.writer.close();
  t.equal(readResultsFile(path).cells.length, 4);
  await t.rejects(ResultsWriter.resume(join(t.testdirName, 'nope.hdr')), UserError);
});

t.test('a killed writer keeps every complete cell', async (t) => {
  const path = join(t.testdir(), 'run.hdr');
  const child = fileURLToPath(new URL('../helpers/write-forever.js', import.meta.url));
  const proc = spawn(process.execPath, [child, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  let written = 0;
  await new Promise<void>((resolve) => {
    proc.stdout.on('data', (d: Buffer) => {
      written += d.toString().split('\n').length - 1;
      if (written >= 5) proc.kill('SIGKILL');
    });
    proc.on('exit', () => resolve());
  });
  const { writer, done } = await ResultsWriter.resume(path);
  await writer.close();
  t.ok(done.size >= written, `${done.size} complete cells kept, ${written} reported written`);
  t.same(readResultsFile(path).warnings, []);
});

t.test('reader: a clear error per bad file, a warning per bad line', async (t) => {
  const dir = t.testdir({
    'empty.hdr': '',
    'notes.txt': 'just some notes\nnothing, to see here\n',
    'binary.hdr': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]),
  });
  const err = (name: string, problem: string, message: RegExp) => {
    try {
      readResultsFile(join(dir, name));
      t.fail(`${name} should not be read`);
    } catch (e) {
      t.ok(e instanceof ResultsFileError, `${name}: ResultsFileError`);
      t.match(e, { problem, message }, name);
    }
  };
  err('empty.hdr', 'empty', /empty\.hdr is empty/);
  err('notes.txt', 'not-a-log', /notes\.txt is not an HdrHistogram log/);
  err('binary.hdr', 'not-a-log', /not an HdrHistogram log/);
  err('missing.hdr', 'unreadable', /missing\.hdr: no such file/);
  err('.', 'unreadable', /is a directory/);

  // another tool's log: untagged and foreign-tagged histograms
  let foreign = '';
  const w = new HistogramLogWriter((s: string) => (foreign += s));
  w.outputLogFormatVersion();
  w.outputLegend();
  const h = newLatencyHistogram();
  h.recordValue(42);
  w.outputIntervalHistogram(h, 0, 1);
  h.tag = 'wrk-latency';
  w.outputIntervalHistogram(h, 1, 2);
  writeFileSync(join(dir, 'wrk.hdr'), foreign);
  err('wrk.hdr', 'foreign', /wrk\.hdr is an HdrHistogram log from another tool: none of its 2 histograms/);

  // one truncated and one corrupt line among good ones
  const good = join(dir, 'partly.hdr');
  await writeCells(good, 2);
  const lines = readFileSync(good, 'utf8').split('\n');
  lines[5] = lines[5]!.slice(0, -20);
  lines[7] = lines[7]!.replace(/,HISTF/, ',HISTF%%');
  writeFileSync(good, lines.join('\n'));
  const file = readResultsFile(good);
  t.equal(file.cells.length, 6);
  t.equal(file.warnings.length, 2);
  t.match(file.warnings[0], /partly\.hdr:6: truncated or corrupt histogram .*line skipped/);
  t.match(file.warnings[1], /partly\.hdr:8: truncated or corrupt histogram/);

  const header = join(dir, 'header.hdr');
  await writeCells(header, 0);
  err('header.hdr', 'no-data', /no usable data: it holds no measurements/);
});

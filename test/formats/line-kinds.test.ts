// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
// The reader of results files classifies each line, then hands it to the handler of its kind.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/cli.js';
import { classifyLine, parseResultsText } from '../../src/results/log-reader.js';

t.test('every kind of line', async (t) => {
  const lines: [string, string][] = [
    ['', 'blank'],
    ['   ', 'blank'],
    ['#dnn-meta {"tool":"dnn-partition-bench"}', 'meta'],
    ['"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"', 'legend'],
    ['#dnn-request {"policy":"adaptive"}', 'request'],
    ['#dnn-applied {"step":0}', 'applied'],
    ['#dnn-stream {"cell":"cut=a"}', 'stream'],
    ['#dnn-frame {"cell":"cut=a"}', 'frame'],
    ['#dnn-raced {"cell":"cut=a"}', 'raced'],
    ['#[BaseTime: 1.000 (seconds since epoch)]', 'comment'],
    ['#[Histogram log format version 1.3]', 'comment'],
    ['Tag=cut=a;metric=edge,0.1,0.2,0.3,HISTFAAAA', 'interval'],
    ['0.1,0.2,0.3,HISTFAAAA', 'interval'],
    ['garbage', 'interval'],
  ];
  for (const [line, kind] of lines) t.equal(classifyLine(line), kind, JSON.stringify(line));
});

t.test('an interval line that is not one is skipped with file:line', async (t) => {
  t.throws(() => parseResultsText('garbage\n', 'g.hdr'), /g\.hdr is not an HdrHistogram log/);
  const text = readFileSync(join(FIXTURES, 'results/lenet-grid-v0.1.0.hdr'), 'utf8').split('\n');
  text.splice(6, 0, 'garbage');
  const f = parseResultsText(text.join('\n'), 'g.hdr');
  t.same(f.warnings, ['g.hdr:7: not an HdrHistogram interval line; line skipped']);
  t.equal(f.cells.length, 52, 'every cell is still read');
});

// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
// An interleaved replay (--policy-slot) writes each turn's request lines as the turn ends, and a
// policy's histograms only after its last slot: the reader gives each policy the request lines that
// name it, whatever came in between, and a run stopped before its last slot keeps its request lines
// in the file, which the reader names in a warning instead of dropping silently.
import t from 'tap';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { NO_CONDITION } from '../../src/conditions/condition.js';
import { readResultsFile } from '../../src/results/log-reader.js';
import { ResultsWriter } from '../../src/results/log-writer.js';
import { cellHistograms, sampleMeta } from '../helpers/results.js';

const meta = sampleMeta('lenet', ['conv1', 'pool1']);
const request = (policy: string, slot: number, total: number) => ({ policy, t_ms: slot * 5000, cut: 'conv1', total_ms: total, slot, slot_pos: 0 });

t.test('request lines written turn by turn reach their policies; an unfinished policy is warned about, its lines kept', async (t) => {
  const path = join(t.testdir(), 'adaptive.hdr');
  const w = await ResultsWriter.create(path, meta);
  await w.appendCell({ ...NO_CONDITION }, 'conv1', cellHistograms({ edge: 3, transfer: 2, cloud: 5, total: 10 }), 0, 1);
  // slot 0: a then b; slot 1: b then a; a's last turn ends, then the run is stopped before b's
  await w.appendRequests([request('a', 0, 11), request('a', 0, 12)]);
  await w.appendRequests([request('b', 0, 21)]);
  await w.appendRequests([]);
  await w.appendRequests([request('b', 1, 22)]);
  await w.appendRequests([request('a', 1, 13)]);
  const h = cellHistograms({ edge: 3, transfer: 2, cloud: 5, total: 12 });
  await w.appendPolicy('a', 'trace.txt', { edge: h.edge, transfer: h.transfer, cloud: h.cloud, total: h.total }, { requests: [], applied: [] }, 0, 10);
  await w.close();

  t.equal(readFileSync(path, 'utf8').split('\n').filter((l) => l.startsWith('#dnn-request')).length, 5, 'every request line is in the file');
  const file = readResultsFile(path);
  t.equal(file.policies.length, 1, 'one policy has its histograms');
  t.same(file.policies[0]!.requests.map((r) => r['total_ms']), [11, 12, 13], "a's request lines, from both its turns, in order");
  const warning = file.warnings.find((w) => w.includes('no policy histograms'));
  t.ok(warning, 'the unfinished policy is named in a warning');
  t.match(warning ?? '', /2 request line\(s\) of b/, 'with its count of lines kept');
});

t.test('a stopped run: policies with request lines and no histograms get histograms rebuilt from the lines, with a warning', async (t) => {
  const path = join(t.testdir(), 'stopped.hdr');
  const w = await ResultsWriter.create(path, meta);
  await w.appendCell({ ...NO_CONDITION }, 'conv1', cellHistograms({ edge: 3, transfer: 2, cloud: 5, total: 10 }), 0, 1);
  const full = (policy: string, total: number) => ({ ...request(policy, 0, total), edge_ms: total / 2, transfer_ms: total / 4, cloud_ms: total / 4 });
  await w.appendRequests([full('a', 10), full('a', 20)]);
  await w.appendRequests([full('b', 40)]);
  await w.close();

  const file = readResultsFile(path);
  t.same(file.policies.map((p) => [p.policy, p.requests.length]), [['a', 2], ['b', 1]], 'both policies, each with its lines');
  const a = file.policies[0]!;
  t.same(Object.keys(a.histograms).sort(), ['cloud', 'edge', 'total', 'transfer']);
  t.equal(a.histograms.total!.totalCount, 2);
  t.ok(Math.abs(a.histograms.total!.mean - 15_000) < 20, `mean ${a.histograms.total!.mean} µs ~ 15 ms: the lines' totals`);
  t.ok(Math.abs(a.histograms.edge!.mean - 7_500) < 10, 'the edge part from edge_ms');
  t.match(file.warnings.join('\n'), /a \(2\), b \(1\): request lines without policy histograms \(a run stopped before its last slot\): histograms rebuilt/);
});

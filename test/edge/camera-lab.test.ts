import t from 'tap';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runBin } from '../helpers/cli.js';
import { NEEDS_ROOT } from '../helpers/root.js';
import { resultsOf } from '../helpers/results.js';

/**
 * A trace replayed under a camera (--trace ... --scenario stream:FPS) in the lab, under 20 s: the
 * cloud-only point of a 96x96 mobilenet cannot keep up with 500 frames/s (at 50 Mbit/s a frame takes
 * ~18 ms on the wire), so the camera drops frames, counted per policy. Counts only, no timing.
 */
t.test('lab --trace --scenario stream:500: frames dropped and counted per policy, on its request lines and its #dnn-stream line', { skip: NEEDS_ROOT }, async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'dnn-camera-lab-'));
  const trace = path.join(dir, 'steps.trace');
  await writeFile(trace, 't=0;net=50\nt=1;net=40\n');
  const out = path.join(dir, 'results');
  const r = await runBin(
    'dnn-edge',
    [
      ...['lab', 'mobilenet', '--input-shape', '96x96x3', '--cuts', '0,act_softmax', '--edge-cpu', '0', '--edge-mem', '0', '--cloud-cpu', '0', '--cloud-mem', '0'],
      ...['--trace', trace, '--duration', '1', '--policies', 'static:input_1', '--scenario', 'stream:500', '--in-flight', '2', '--out', out],
    ],
    { timeout: 300_000 },
  );
  t.equal(r.exitCode, 0, String(r.stderr));
  t.match(String(r.stderr), /policy static:input_1: \d+ requests, camera: \d+ of \d+ frames dropped/);
  const { parsed } = await resultsOf(out);
  t.match(parsed.meta!.conditions!.adaptive, { scenario: 'stream:500', in_flight: 2 }, 'the camera in the metadata');
  t.equal(parsed.meta!.scenario, undefined, 'the profile cells are single requests');
  const [s] = parsed.streams;
  t.equal(parsed.streams.length, 1);
  t.equal(s!.cell, 'policy=static:input_1;trace=steps.trace');
  t.ok(s!.offered >= 400 && s!.offered <= 500, `about 1 s x 500 frames offered (${s!.offered})`);
  t.ok(s!.dropped > 0, `frames dropped (${s!.dropped})`);
  t.equal(s!.completed + s!.dropped, s!.offered);
  const [run] = parsed.policies;
  t.equal(run!.requests.length, s!.completed, 'one request line per completed frame');
  t.equal(run!.histograms.total!.totalCount, s!.completed);
  const dropped = run!.requests.reduce((n, q) => n + Number(q['dropped']), 0);
  t.ok(dropped <= s!.dropped && dropped > 0, `drops before each request on its line (${dropped} of ${s!.dropped}; the last ones follow no request)`);
  t.ok(run!.requests.every((q) => typeof q['queue_ms'] === 'number'));
});

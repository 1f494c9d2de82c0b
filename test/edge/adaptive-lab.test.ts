import t from 'tap';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runBin } from '../helpers/cli.js';
import { NEEDS_ROOT } from '../helpers/root.js';
import { resultsOf } from '../helpers/results.js';

/**
 * An adaptive run end to end in the lab: a weak edge (--edge-slowdown), a short trace of the tool's
 * own format replayed on the shaped link, two policies, then dnn-report's comparison in JSON.
 */
// the two lab runs side by side (each lab has its own namespace and cgroups): no timing is asserted here
t.jobs = 2;

t.test('lab --trace: the trace replayed per policy in interleaved 1 s slots, timelines and histograms per policy, the report compares them', { skip: NEEDS_ROOT }, async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'dnn-adaptive-lab-'));
  const trace = path.join(dir, 'steps.trace');
  await writeFile(trace, 't=0;net=50\nt=1;net=2\nt=2;net=20\n');
  const out = path.join(dir, 'results');
  const r = await runBin(
    'dnn-edge',
    // no --edge-slowdown: the calibration is the sweep's (lab-timing.serial.test.ts checks it), and on
    // a ~1.5 ms model a quota cannot slow the edge evenly (a run once starved it for minutes)
    ['lab', 'mobilenet', '--input-shape', '96x96x3', '--cuts', '0,act_softmax', '--edge-cpu', '0', '--edge-mem', '0', '--cloud-cpu', '0', '--cloud-mem', '0', '--trace', trace, '--duration', '3', '--policies', 'adaptive,static:auto', '--policy-slot', '1', '--out', out],
    { timeout: 300_000 },
  );
  t.equal(r.exitCode, 0, String(r.stderr));
  const err = String(r.stderr);
  t.match(err, /warm-up: \d+ runs of the full model on each end/, 'both ends warmed up before the profile');
  t.match(err, /profiling 2 points/);
  t.match(err, /policy adaptive: \d+ requests, mean [\d.]+ ms, \d+ switches, explored \d+ \([\d.]+ % of requests, [\d.]+ % of their time\)/, 'the learning policy\'s summary says its exploration share');
  t.match(err, /interleaved replay: 3 slots of 1\.0 s/);
  const { file, parsed } = await resultsOf(out);
  const policies = new Set(parsed.policies.map((p) => p.policy));
  t.match(parsed.meta?.conditions?.adaptive, { policy_slot_s: 1 }, 'the slot length in the metadata');
  t.type(parsed.meta?.conditions?.adaptive?.policy_slot_seed, 'number', "and the seed of the slots' orders");
  // each request in its slot of trace time, with its policy's place in that slot's order: one place per policy, all places taken
  const places = new Map<number, Map<string, Set<number>>>();
  for (const run of parsed.policies) {
    for (const q of run.requests as { t_ms: number; slot?: number; slot_pos?: number }[]) {
      t.ok(q.slot !== undefined && q.t_ms >= q.slot * 1000 && q.t_ms < (q.slot + 1) * 1000, `${run.policy}: t_ms ${q.t_ms} in its slot ${q.slot}`);
      const slot = places.get(q.slot!) ?? new Map<string, Set<number>>();
      places.set(q.slot!, slot.set(run.policy, (slot.get(run.policy) ?? new Set()).add(q.slot_pos!)));
    }
  }
  t.same([...places.keys()].sort(), [0, 1, 2], 'every slot ran');
  for (const [k, slot] of places) {
    t.ok([...slot.values()].every((p) => p.size === 1), `slot ${k}: one place per policy`);
    if (slot.size === policies.size) t.same([...slot.values()].map((p) => [...p][0]).sort(), [...Array(policies.size).keys()], `slot ${k}: places 0..${policies.size - 1}`);
  }
  t.ok(policies.has('adaptive'), `policies measured: ${[...policies].join(', ')}`);
  t.ok([...policies].some((p) => p.startsWith('static:')), 'the static policies too');
  const learned = parsed.policies.find((p) => p.policy === 'adaptive')!.requests as { pred_ms?: number; explore?: boolean }[];
  t.ok(learned.every((q) => typeof q.pred_ms === 'number' && q.pred_ms > 0 && (q.explore === undefined || q.explore === true)), 'adaptive\'s requests carry its prediction (pred_ms), explore only when true');
  for (const run of parsed.policies) {
    t.ok(run.requests.length > 0, `${run.policy}: a timeline of requests`);
    // one step in force at the start of each 1 s slot, in trace time
    t.same(run.applied.map((a) => [a.step, a.scheduled_ms]), [[0, 0], [1, 1000], [2, 2000]], `${run.policy}: every trace step applied and logged, in trace time`);
    t.same(run.applied.filter((a) => a.error), [], `${run.policy}: no step failed (our qdisc stayed on the link)`);
    t.ok(run.histograms.total && run.histograms.total.totalCount === run.requests.length, `${run.policy}: one total sample per request`);
  }
  const rep = await runBin('dnn-report', [file, '--format', 'json']);
  t.equal(rep.exitCode, 0, String(rep.stderr));
  const json = JSON.parse(String(rep.stdout)) as { adaptive: { trace: string; best_static: string; policies: { policy: string; requests: number; mean_ms: number }[] }[] };
  t.equal(json.adaptive.length, 1, 'one (network, trace) entry');
  t.ok(json.adaptive[0]!.best_static.startsWith('static:'), `best static: ${json.adaptive[0]!.best_static}`);
  t.ok(json.adaptive[0]!.policies.every((p) => p.requests > 0 && p.mean_ms > 0));
  // the hindsight best over the statics, per 1 s window (the trace's steps): the report path on a real run
  const h = await runBin('dnn-report', [file, '--format', 'json', '--hindsight-window', '1']);
  t.equal(h.exitCode, 0, String(h.stderr));
  type Hp = { policy: string; mean_ms: number; regret_vs_hindsight: number; regret_vs_hindsight_ci: [number, number] | null; explore_share: number };
  const e = (JSON.parse(String(h.stdout)) as { adaptive: { hindsight_ms: number; hindsight_statics: number; hindsight_arms: number; hindsight_choices: { t0_s: number; policy: string }[]; steps: unknown[]; policies: Hp[] }[] }).adaptive[0]!;
  const statics = e.policies.filter((p) => p.policy.startsWith('static:'));
  t.equal(e.hindsight_statics, statics.length);
  t.equal(e.hindsight_arms, 2, 'the 2 profiled points');
  t.ok(e.hindsight_choices.length >= 3 && e.hindsight_choices.every((c) => statics.some((p) => p.policy === c.policy)), `choices: ${JSON.stringify(e.hindsight_choices)}`);
  t.ok(e.hindsight_ms > 0 && statics.every((p) => e.hindsight_ms <= p.mean_ms * 1.05), `hindsight ${e.hindsight_ms} ms, statics ${statics.map((p) => p.mean_ms).join(', ')}`);
  t.ok(e.policies.every((p) => Number.isFinite(p.regret_vs_hindsight) && p.regret_vs_hindsight_ci !== null && p.explore_share >= 0 && p.explore_share <= 1));
  t.same(e.steps, [], 'a link-only trace: no stress steps');
});

/**
 * The policies over (point, codec) arms in the lab: a jpeg camera frame at the input point, int8 at
 * an inner one, the budget wide open (seeded weights flip top-1 answers easily, so a real budget
 * could leave the encoded arms out). No --edge-slowdown: a 96x96 model is too short for a CPU quota
 * to slow evenly, and a starved edge makes the fidelity and the jpeg encoding crawl. static:<arm>
 * makes sure an encoded arm is in a timeline whatever adaptive chooses.
 */
t.test('lab --trace with codecs: fidelity before the profile, arms profiled, an encoded arm in the timeline, read back by the report', { skip: NEEDS_ROOT }, async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'dnn-adaptive-arms-'));
  const trace = path.join(dir, 'steps.trace');
  await writeFile(trace, 't=0;net=50\nt=1;net=5\n');
  const out = path.join(dir, 'results');
  const r = await runBin(
    'dnn-edge',
    [
      ...['lab', 'mobilenet', '--input-shape', '96x96x3', '--cuts', '0,conv_pw_6,act_softmax', '--edge-cpu', '0', '--edge-mem', '0', '--cloud-cpu', '0', '--cloud-mem', '0', '--edge-slowdown', '1'],
      ...['--trace', trace, '--duration', '2', '--policies', 'adaptive,static:input_1@jpeg:90', '--out', out],
      ...['--codec', 'f32,int8', '--input-codec', 'raw-f32,jpeg:90', '--max-agreement-loss', '100'],
    ],
    { timeout: 300_000 },
  );
  t.equal(r.exitCode, 0, String(r.stderr));
  const err = String(r.stderr);
  t.match(err, /fidelity of 2 encoded arms over \d+ inputs/, 'the encoded arms\' fidelity measured before the profile');
  t.match(err, /profiling 3 points as 5 arms \(point, codec\)/);
  t.match(err, /cost model: 5 arms \(2 encoded\)/);
  const { file, parsed } = await resultsOf(out);
  t.same(parsed.meta!.codecs, { input: ['f32', 'jpeg:90'], inner: ['f32', 'int8'] }, 'the codecs in the metadata, as a sweep writes them');
  t.same(parsed.meta!.fidelity!.map((f) => `${f.cut}@${f.codec}`).sort(), ['conv_pw_6@int8', 'input_1@jpeg:90'], 'and the fidelity of the encoded arms');
  t.equal((parsed.meta!.conditions!.adaptive as { max_agreement_loss?: number }).max_agreement_loss, 100, 'and the budget');
  t.equal(parsed.cells.filter((c) => c.tag.metric === 'total').length, 10, 'the profile: 5 arms at 2 rates');
  const encoded = parsed.policies.find((p) => p.policy === 'static:input_1@jpeg:90')?.requests as { cut: string; bytes: number; encode_ms: number }[] | undefined;
  t.ok(encoded?.length, 'the static arm streamed');
  t.ok(encoded?.every((q) => q.cut === 'input_1@jpeg:90' && q.bytes > 0 && q.bytes < 96 * 96 * 3 && q.encode_ms > 0), 'an encoded arm in the timeline: camera frames as jpeg, their bytes and encode time per request');
  const rep = await runBin('dnn-report', [file, '--format', 'json']);
  t.equal(rep.exitCode, 0, String(rep.stderr));
  const json = JSON.parse(String(rep.stdout)) as { adaptive: { policies: { policy: string; requests: number }[] }[] };
  // in the order of the file: interleaved (one 5 s slot here), the last slot's order
  t.same(json.adaptive[0]!.policies.map((p) => p.policy).sort(), ['adaptive', 'static:input_1@jpeg:90'], 'the report reads the arm labels');
  t.ok(json.adaptive[0]!.policies.every((p) => p.requests > 0));
});

// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { NO_CONDITION } from '../../src/conditions/condition.js';
import { conditionAt, linkSchedule, meanRate, namesDeviceLink, parseTrace, readTrace, replayedLinks, scheduleOf, traceOnLink } from '../../src/conditions/trace.js';

const NORWAY = fileURLToPath(new URL('../../../test/fixtures/traces/norway_train_11.txt', import.meta.url));

t.test('two-column trace: the real Norway 3G trace', async (t) => {
  const tr = readTrace(NORWAY);
  t.equal(tr.format, 'two-column');
  t.equal(tr.name, 'norway_train_11.txt');
  t.equal(tr.steps.length, 266);
  t.equal(tr.steps[0]!.atMs, 0);
  t.same(tr.steps[0]!.condition, { ...NO_CONDITION, net: 2.47471172555 });
  t.ok(tr.lengthMs > 249_000 && tr.lengthMs < 252_000, `length ${tr.lengthMs} ms`);
  const s = scheduleOf(tr, { scale: 10 });
  t.equal(s.steps[0]!.condition.net, 24.747, 'scaled to the kbit/s');
  const mean = meanRate(s)!;
  t.ok(mean > 15 && mean < 25, `mean ${mean} Mbit/s`);
});

t.test('schedule: duration, loop, merging of equal neighbours, lookup', async (t) => {
  const tr = parseTrace('0 1\n1 2\n2 2\n3 4\n', 'x.txt');
  t.equal(tr.lengthMs, 4000);
  const once = scheduleOf(tr);
  t.same(once.steps.map((s) => [s.atMs, s.condition.net]), [[0, 1], [1000, 2], [3000, 4]], 'the repeated 2 is one step');
  t.equal(conditionAt(once, 2999).net, 2);
  t.equal(conditionAt(once, 3000).net, 4);
  const short = scheduleOf(tr, { durationMs: 1500 });
  t.same(short.steps.map((s) => s.atMs), [0, 1000]);
  t.equal(short.lengthMs, 1500);
  const looped = scheduleOf(tr, { loop: true, durationMs: 9000 });
  t.same(looped.steps.map((s) => [s.atMs, s.condition.net]), [[0, 1], [1000, 2], [3000, 4], [4000, 1], [5000, 2], [7000, 4], [8000, 1]]);
  t.equal(scheduleOf(tr, { durationMs: 9000 }).lengthMs, 4000, 'without --trace-loop one pass at most');
  t.throws(() => scheduleOf(tr, { durationMs: 500 }), /--duration 0.5 s is shorter than one step of x.txt \(1 s\)/);
  t.throws(() => scheduleOf(tr, { scale: 0 }), /--trace-scale must be a number above 0/);
});

t.test('Mahimahi delivery trace: opportunities per second become rates', async (t) => {
  // 1000 opportunities in the first second (12 Mbit/s), none in the second, 500 in the third.
  const stamps = [...Array.from({ length: 1000 }, (_, i) => i), ...Array.from({ length: 500 }, (_, i) => 2000 + 2 * i), 3000];
  const tr = parseTrace(stamps.join('\n'), 'm.trace');
  t.equal(tr.format, 'mahimahi');
  t.equal(tr.lengthMs, 3000);
  t.same(tr.steps.map((s) => [s.atMs, s.condition.net]), [[0, 12], [1000, 3.006]], 'the empty second joins the next: 501 packets over 2 s');
  t.throws(() => parseTrace('0\n5\n900\n', 'short.trace'), /short.trace: the trace is shorter than one step \(900 ms/);
  t.throws(() => parseTrace('0\n5\n3\n', 'back.trace'), /back.trace:3: timestamp 3 ms is earlier/);
});

t.test("the tool's own lines: any factor changes, the others carry over", async (t) => {
  const tr = parseTrace('# a made-up day\nt=0;net=10\nt=2.5;delay=20;ecpu=50\nt=4;net=none\n', 'own.trace');
  t.equal(tr.format, 'tags');
  t.same(tr.steps, [
    { atMs: 0, condition: { ...NO_CONDITION, net: 10 } },
    { atMs: 2500, condition: { ...NO_CONDITION, net: 10, delay: 20, ecpu: 50 } },
    { atMs: 4000, condition: { ...NO_CONDITION, delay: 20, ecpu: 50 } },
  ]);
  t.equal(tr.lengthMs, 5500);
});

t.test('malformed traces: file:line and a reason', async (t) => {
  const bad: [string, RegExp][] = [
    ['0 1\n1 2 3\n', /^b.txt:2: '1 2 3' has 3 columns/],
    ['0 1\nx 2\n', /^b.txt:2: time 'x' is not a non-negative number/],
    ['0 1\n1 fast\n', /^b.txt:2: rate 'fast' is not a number/],
    ['0 1\n1 0\n', /^b.txt:2: rate 0 Mbit\/s is not above 0/],
    ['0 1\n1 -2\n', /^b.txt:2: rate -2 Mbit\/s is not above 0/],
    ['0 1\n2 1\n1 1\n', /^b.txt:3: time 1 s does not come after the line before \(2 s\)/],
    ['0 5\n', /^b.txt: the trace is shorter than one step \(1 line\)/],
    ['# nothing\n\n', /^b.txt: the trace has no data lines/],
    ['t=0;net=10\nt=1;net=0\n', /^b.txt:2: net: 0 is out of range, give a number of Mbit\/s from 0 \(exclusive\)/],
    ['t=0;net=10\nt=1;net=-3\n', /^b.txt:2: net: '-3' is not a number of Mbit\/s/],
    ['t=0;net=10\nt=1;speed=3\n', /^b.txt:2: unknown key 'speed'/],
    ['t=0;net=10\nnet=5\n', /^b.txt:2: 'net=5' is not key=value|^b.txt:2: no t= on the line/],
    ['t=0;net=10\nt=1;ecpu=150\n', /^b.txt:2: ecpu: 150 is out of range/],
    ['t=0;net=10\n', /^b.txt: the trace is shorter than one step/],
  ];
  for (const [text, re] of bad) t.throws(() => parseTrace(text, 'b.txt'), re, JSON.stringify(text));
  t.throws(() => readTrace('/nonexistent/trace.txt'), /--trace: cannot read '\/nonexistent\/trace.txt' \(ENOENT\)/);
});

t.test('each line is checked against its format\'s schema: ranges, with file:line', async (t) => {
  t.throws(() => parseTrace('-1 1\n2 3\n', 'b.txt'), /^b.txt:1: time -1 s is not a non-negative number of seconds$/);
  t.throws(() => parseTrace('t=-1;net=3\nt=2\n', 'b.txt'), /^b.txt:1: t -1 is not a non-negative number of seconds$/);
  t.same(parseTrace('t=0;net=none\nt=1;net=3\n', 'b.txt').steps.length, 2, 'net=none is a level of a tag line');
});

t.test('three tiers: dnet on tag lines, a one-rate trace on either link, each link its own timeline', async (t) => {
  const tags = parseTrace('t=0;dnet=50;net=20;delay=5\nt=2;dnet=5\n', 'tiers.trace');
  t.ok(namesDeviceLink(tags), 'the device link is named');
  t.notOk(namesDeviceLink(parseTrace('t=0;net=10\nt=1;net=5\n', 'b.txt')), 'a two-tier trace does not name it');
  t.same(tags.steps.map((s) => s.condition.dnet), [50, 5], 'dnet carries over like any factor');
  t.throws(() => parseTrace('t=0;dnet=0\nt=1;dnet=5\n', 'b.txt'), /^b.txt:1: dnet: 0 is out of range/, 'dnet has the range of net');
  const s = scheduleOf(tags, { scale: 2 });
  t.same(s.steps.map((x) => [x.condition.dnet, x.condition.net]), [[100, 40], [10, 40]], '--trace-scale scales both links');
  t.same(linkSchedule(s, 'device')!.steps, [{ atMs: 0, condition: { ...NO_CONDITION, net: 100 } }, { atMs: 2000, condition: { ...NO_CONDITION, net: 10 } }], "the device link: its rate as a link condition, nothing else");
  t.same(linkSchedule(s, 'edge')!.steps.map((x) => [x.atMs, x.condition.net, x.condition.delay, x.condition.dnet]), [[0, 40, 5, null], [2000, 40, 5, null]], 'the edge link: net, delay, ... at every step (the same indices)');
  t.same(replayedLinks(s).map((l) => l.link), ['device', 'edge']);
  const rates = parseTrace('0 10\n2 5\n', 'r.txt');
  t.equal(traceOnLink(rates, 'edge'), rates, 'edge: as parsed');
  const device = scheduleOf(traceOnLink(rates, 'device'));
  t.same(device.steps.map((x) => [x.condition.dnet, x.condition.net]), [[10, null], [5, null]], 'device: the rates move to dnet');
  t.equal(linkSchedule(device, 'edge'), null, 'the edge link unshaped throughout: not replayed');
  t.same(replayedLinks(device).map((l) => l.link), ['device']);
  t.throws(() => replayedLinks(scheduleOf(parseTrace('t=0;ecpu=10\nt=1;ecpu=20\n', 'n.txt'))), /trace n.txt shapes neither link/);
  t.throws(() => linkSchedule(scheduleOf(parseTrace('t=0;net=10;dnet=5\nt=1;dnet=none\n', 'g.txt')), 'device'), /the step at 1 s leaves the device link unshaped \(dnet=none\) while others shape it/);
});

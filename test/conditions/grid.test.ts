// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { conditionKey, NO_CONDITION } from '../../src/conditions/condition.js';
import { DEFAULT_LEVELS, baselineOf, fullFactorial, levelsFrom, oneAtATime, parseConditionsFile, parseLevels, readConditionsFile } from '../../src/conditions/grid.js';
import { UserError } from '../../src/errors.js';

t.test('the default full factorial is the published 243-condition grid, network outermost', async (t) => {
  const all = fullFactorial(DEFAULT_LEVELS);
  t.equal(all.length, 243);
  t.equal(new Set(all.map(conditionKey)).size, 243, 'all distinct');
  t.same(all[0], { ...NO_CONDITION, net: 50 });
  t.same(all[1], { ...NO_CONDITION, net: 50, cmem: 50 }, 'the last factor varies fastest');
  // The rate changes only twice across the whole run.
  const rateChanges = all.filter((c, i) => i > 0 && c.net !== all[i - 1]!.net).length;
  t.equal(rateChanges, 2);
  t.same(all.slice(0, 81).map((c) => c.net), Array(81).fill(50));
});

t.test('factorial counts multiply', async (t) => {
  const levels = levelsFrom({ net: '10,none', delay: '0,20', ecpu: '0,100' });
  t.equal(fullFactorial(levels).length, 2 * 2 * 1 * 1 * 2 * 3 * 3 * 3);
});

t.test('one at a time: the baseline once, then each factor alone', async (t) => {
  const c = oneAtATime(DEFAULT_LEVELS);
  t.equal(c.length, 1 + 5 * 2);
  t.same(c[0], baselineOf(DEFAULT_LEVELS));
  t.same(c[1], { ...NO_CONDITION, net: 25 });
  t.same(c[3], { ...NO_CONDITION, net: 50, ecpu: 50 });
  t.equal(new Set(c.map(conditionKey)).size, c.length, 'no duplicate of the baseline');
  for (const x of c.slice(1)) {
    const differing = Object.keys(x).filter((k) => x[k as keyof typeof x] !== c[0]![k as keyof typeof x]);
    t.equal(differing.length, 1, `${conditionKey(x)} differs in one factor`);
  }
});

t.test('level parsing errors name the flag', async (t) => {
  t.same(parseLevels('net', '50, 25,10,none'), [50, 25, 10, null]);
  t.same(parseLevels('delay', '0,12.5'), [0, 12.5]);
  const bad: [Parameters<typeof parseLevels>[0], string, RegExp][] = [
    ['net', '0', /^--net: 0 is out of range/],
    ['net', '10,,5', /^--net: '10,,5' has an empty level/],
    ['net', 'fast', /^--net: 'fast' is not a number of Mbit\/s/],
    ['ecpu', '50,150', /^--edge-cpu: 150 is out of range/],
    ['cmem', '12.5', /^--cloud-mem: '12.5' is not a whole number/],
    ['ccpu', '0,0', /^--cloud-cpu: level 0 is listed twice/],
    ['loss', '100', /^--loss: 100 is out of range/],
    ['jitter', '-1', /^--jitter: '-1' is not/],
    ['emem', 'none', /^--edge-mem: 'none' is not/],
  ];
  for (const [key, text, re] of bad) t.throws(() => parseLevels(key, text), re, `${key} ${text}`);
  t.throws(() => parseLevels('net', '0'), UserError);
});

t.test('conditions file', async (t) => {
  const text = '# the cases we care about\n\nnet=10;ecpu=50\nnet=none ; cmem=100   # unshaped\ndelay=20;jitter=5;loss=0.5;\n';
  const c = parseConditionsFile(text, 'c.txt');
  t.same(c, [
    { ...NO_CONDITION, net: 10, ecpu: 50 },
    { ...NO_CONDITION, cmem: 100 },
    { ...NO_CONDITION, delay: 20, jitter: 5, loss: 0.5 },
  ]);
  t.same(parseConditionsFile('ecpu=50', 'c.txt', baselineOf(DEFAULT_LEVELS)), [{ ...NO_CONDITION, net: 50, ecpu: 50 }], 'missing keys take the baseline given');
  t.same(parseConditionsFile(conditionKey({ ...NO_CONDITION, net: 25, ccpu: 100 }), 'c.txt'), [{ ...NO_CONDITION, net: 25, ccpu: 100 }], 'a result tag reads back');
  const bad: [string, RegExp][] = [
    ['net=10\nspeed=5', /^c\.txt:2: unknown key 'speed'; keys are net, delay/],
    ['\n\nnet 10', /^c\.txt:3: 'net 10' is not key=value/],
    ['net=10;net=20', /^c\.txt:1: key 'net' is given twice/],
    ['ecpu=500', /^c\.txt:1: ecpu: 500 is out of range/],
    ['net=10\n#x\nnet=10', /^c\.txt:3: repeats the condition of line 1/],
    ['# nothing\n\n', /^c\.txt: lists no conditions/],
  ];
  for (const [text, re] of bad) t.throws(() => parseConditionsFile(text, 'c.txt'), re, JSON.stringify(text));
  t.throws(() => readConditionsFile('/nonexistent/conditions.txt'), /^--conditions: cannot read '\/nonexistent\/conditions.txt' \(ENOENT\)/);
});

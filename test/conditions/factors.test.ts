// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { CONDITION_KEYS, FACTOR, FACTORS, compareLevel, factorsAppliedBy, flagHelp } from '../../src/conditions/factors.js';
import { NO_CONDITION, changesAt, isShaped, isStressed } from '../../src/conditions/condition.js';
import { DEFAULT_LEVELS, parseLevel } from '../../src/conditions/grid.js';

t.test('every spelling of a factor is unique, and its defaults pass its own validation', async (t) => {
  for (const prop of ['key', 'field', 'flag', 'label'] as const) {
    t.equal(new Set(FACTORS.map((f) => f[prop])).size, FACTORS.length, `${prop}s are unique`);
  }
  for (const f of FACTORS) {
    t.match(f.flag, /^--[a-z-]+$/, `${f.key}: a long flag`);
    t.match(f.key, /^[a-z]+$/, `${f.key}: a tag key (no , ; = or spaces)`);
    for (const v of f.defaults) t.equal(parseLevel(f.key, v === null ? 'none' : String(v)), v, `${f.flag} default ${v} is a valid level`);
    t.equal(parseLevel(f.key, f.neutral === null ? 'none' : String(f.neutral)), f.neutral, `${f.flag}: the neutral level is a valid level`);
  }
  t.same(Object.keys(DEFAULT_LEVELS), CONDITION_KEYS);
  t.same(Object.keys(NO_CONDITION), CONDITION_KEYS, 'conditions list their factors in tag order');
});

t.test('which end applies what: one "is it shaped?" for the whole tool', async (t) => {
  t.same(factorsAppliedBy('link'), ['net', 'delay', 'jitter', 'loss']);
  t.same(factorsAppliedBy('edge'), ['ecpu', 'emem']);
  t.same(factorsAppliedBy('cloud'), ['ccpu', 'cmem']);
  t.notOk(isShaped(NO_CONDITION));
  t.notOk(isStressed(NO_CONDITION));
  t.ok(isShaped({ ...NO_CONDITION, net: 10 }));
  t.ok(isShaped({ ...NO_CONDITION, loss: 0.5 }));
  t.notOk(isShaped({ ...NO_CONDITION, ecpu: 100 }), 'stress is not shaping');
  t.ok(isStressed({ ...NO_CONDITION, cmem: 50 }));
  t.ok(changesAt({ ...NO_CONDITION, emem: 50 }, 'edge'));
  t.notOk(changesAt({ ...NO_CONDITION, emem: 50 }, 'cloud'));
});

t.test('favourable levels first: the fastest rate (unshaped fastest of all), the least of everything else', async (t) => {
  t.same([10, null, 50, 25].sort((a, b) => compareLevel('net', a, b)), [null, 50, 25, 10]);
  t.same([100, 0, 50].sort((a, b) => compareLevel('ecpu', a, b)), [0, 50, 100]);
  t.equal(flagHelp(FACTOR.loss), 'packet loss levels in % (netem; default: 0)');
});

import t from 'tap';
import { rootQdisc } from '../../src/conditions/cleanup.js';
import { createLabNetwork } from '../../src/conditions/netns.js';
import { applyShaping, interfaceFor } from '../../src/conditions/tc.js';
import { NEEDS_ROOT, tcShow } from '../helpers/root.js';
import { timedTransfer } from '../helpers/transfer.js';

/**
 * Shaped transfers timed: run alone, after the other test files. What tc shaping does without a
 * timing (the commands, qdiscs it finds, no root) is in tc.test.ts, which runs beside the others.
 */

const RATE = { rateMbit: 10, delayMs: 0, jitterMs: 0, lossPct: 0 };

t.test('a shaped transfer takes bytes*8/rate (±10 %), and restore leaves no qdisc of ours', { skip: NEEDS_ROOT }, async (t) => {
  const lab = await createLabNetwork();
  t.teardown(lab.teardown);
  t.equal(await interfaceFor(lab.cloudAddress), lab.edgeIface, 'interfaceFor follows the route');
  t.equal(await interfaceFor('127.0.0.1'), 'lo');
  const applied = await applyShaping(lab.edgeIface, RATE);
  t.comment(applied.commands.join('\n'));
  for (const bytes of [602112, 3_000_000]) {
    const seconds = await timedTransfer(lab, bytes);
    const ideal = (bytes * 8) / 10e6;
    t.comment(`${bytes} bytes at 10 Mbit/s: ${seconds.toFixed(4)} s, bytes*8/rate = ${ideal.toFixed(4)} s, ratio ${(seconds / ideal).toFixed(3)}`);
    t.ok(Math.abs(seconds / ideal - 1) <= 0.1, `${bytes} bytes within ±10 % of ${ideal} s (took ${seconds.toFixed(4)} s)`);
  }
  await applied.restore();
  const after = await tcShow(lab.edgeIface);
  t.notMatch(after, /d1[ef]:/, 'no qdisc of ours left');
  t.equal(rootQdisc(lab.edgeIface)?.kind, 'noqueue', 'the default root qdisc is back');
  await applied.restore(); // idempotent
});

t.test('delay, jitter and loss use netem, or say clearly that the kernel lacks it', { skip: NEEDS_ROOT }, async (t) => {
  const lab = await createLabNetwork();
  t.teardown(lab.teardown);
  const shaping = { rateMbit: 10, delayMs: 100, jitterMs: 0, lossPct: 0 };
  let applied;
  try {
    applied = await applyShaping(lab.edgeIface, shaping);
  } catch (e) {
    t.match(e, { name: 'UserError', message: /this kernel has no 'netem' qdisc \(CONFIG_NET_SCH_NETEM\).*--delay, --jitter, --loss/ });
    t.notMatch(await tcShow(lab.edgeIface), /d1e:/, 'the half-built shaping was removed');
    t.comment(`no netem in this kernel: ${(e as Error).message}`);
    return;
  }
  const bytes = 602112;
  const seconds = await timedTransfer(lab, bytes);
  const ideal = (bytes * 8) / 10e6 + 0.1;
  t.comment(`${bytes} bytes at 10 Mbit/s + 100 ms: ${seconds.toFixed(4)} s (ideal ${ideal.toFixed(4)} s)`);
  t.ok(seconds >= ideal * 0.9, 'the delay is added');
  await applied.restore();
});

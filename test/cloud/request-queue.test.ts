// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
// The cloud's request queue alone: FIFO across owners, a hard bound (a push past it is refused),
// `concurrency` running at once, the fair-share signal, and an owner's waiting requests dropped.
import t from 'tap';
import { RequestQueue } from '../../src/cloud/request-queue.js';

/** A run that settles when the test says so. */
function gate() {
  let open!: () => void;
  const done = new Promise<void>((r) => (open = r));
  return { done, open };
}

t.test('FIFO across owners, bounded, K at a time', async (t) => {
  const order: string[] = [];
  const gates = new Map<string, ReturnType<typeof gate>>();
  const q = new RequestQueue<string>(3, 2);
  const job = (name: string) => (queuedMs: number) => {
    t.ok(queuedMs >= 0, `${name}: its queue time is not negative`);
    order.push(name);
    const g = gate();
    gates.set(name, g);
    return g.done;
  };
  t.ok(q.push('a', job('a1')));
  t.ok(q.push('b', job('b1')));
  t.same([q.running, q.length], [2, 0], 'two run at once, none waits');
  t.ok(q.push('a', job('a2')));
  t.ok(q.push('b', job('b2')));
  t.ok(q.push('c', job('c1')));
  t.notOk(q.push('c', job('c2')), 'the fourth waiting is refused: the bound holds');
  t.same([q.length, q.refused, q.peak], [3, 1, 3]);
  gates.get('a1')!.open();
  await new Promise((r) => setImmediate(r));
  t.same(order, ['a1', 'b1', 'a2'], 'the oldest waiting runs as a slot frees');
  gates.get('b1')!.open();
  gates.get('a2')!.open();
  await new Promise((r) => setImmediate(r));
  t.same(order, ['a1', 'b1', 'a2', 'b2', 'c1'], 'first in, first out, whoever sent it');
  gates.get('b2')!.open();
  gates.get('c1')!.open();
  await new Promise((r) => setImmediate(r));
  t.same([q.running, q.length, q.started], [0, 0, 5]);
});

t.test('an owner past its share is told to stop sending, and told again when it is back within it', async (t) => {
  const signals: string[] = [];
  const g = gate();
  const q = new RequestQueue<string>(4, 1, (owner, over) => signals.push(`${owner}:${over ? 'pause' : 'resume'}`));
  q.push('x', () => g.done); // runs at once
  for (let i = 0; i < 3; i++) q.push('greedy', () => Promise.resolve());
  t.same(signals, [], 'alone, an owner may fill the whole queue (share 4)');
  q.push('calm', () => Promise.resolve());
  t.same(q.share(), 2, 'two owners waiting: a share of 2 each');
  t.same(signals, ['greedy:pause'], 'the one with 3 waiting is paused');
  t.notOk(q.push('calm', () => Promise.resolve()) && q.push('calm', () => Promise.resolve()), 'the bound still holds');
  g.open();
  await new Promise((r) => setTimeout(r, 10));
  t.same(signals, ['greedy:pause', 'greedy:resume'], 'resumed once within its share (here: the queue drained)');
});

t.test("a closed owner's waiting requests are dropped unrun; bad sizes are refused", async (t) => {
  const ran: string[] = [];
  const g = gate();
  const q = new RequestQueue<string>(8, 1);
  q.push('a', () => g.done);
  for (const name of ['b1', 'c1', 'b2']) q.push(name[0]!, () => (ran.push(name), Promise.resolve()));
  t.equal(q.drop('b'), 2);
  g.open();
  await new Promise((r) => setTimeout(r, 10));
  t.same(ran, ['c1']);
  t.same([q.dropped, q.length], [2, 0]);
  let thrown = 0;
  q.push('a', () => {
    thrown++;
    throw new Error('sync');
  });
  q.push('a', () => (ran.push('after'), Promise.resolve()));
  await new Promise((r) => setTimeout(r, 10));
  t.same([thrown, ran.at(-1)], [1, 'after'], 'a run that throws frees its slot');
  t.throws(() => new RequestQueue(0, 1), RangeError);
  t.throws(() => new RequestQueue(4, 0), RangeError);
});

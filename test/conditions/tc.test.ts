import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import t from 'tap';
import { stateDir } from '../../src/conditions/cleanup.js';
import { readProcStat } from '../../src/conditions/proc.js';
import { createLabNetwork } from '../../src/conditions/netns.js';
import { applyShaping, restoreShaping, shapingCommands } from '../../src/conditions/tc.js';
import { UserError } from '../../src/errors.js';
import { NEEDS_ROOT, tcShow } from '../helpers/root.js';
import { readableCopy } from '../helpers/readable-copy.js';

/**
 * tc shaping without a timing: the commands, what shaping does with qdiscs it finds, and the message
 * without root. They run beside the other test files; the shaped transfers' timings are in
 * tc.serial.test.ts, which runs alone.
 */

const RATE = { rateMbit: 10, delayMs: 0, jitterMs: 0, lossPct: 0 };

t.test('qdisc choice: tbf with a two-packet burst, netem child only for delay/jitter/loss', async (t) => {
  t.same(shapingCommands('v', RATE, 1500), [['qdisc', 'add', 'dev', 'v', 'root', 'handle', 'd1e:', 'tbf', 'rate', '10mbit', 'burst', '3028', 'limit', '16777216']]);
  const withDelay = shapingCommands('v', { ...RATE, delayMs: 20, jitterMs: 5, lossPct: 1 }, 1500);
  t.equal(withDelay.length, 2);
  t.match(withDelay[1]!.join(' '), /^qdisc add dev v parent d1e:1 handle d1f: netem limit \d+ delay 20ms 5ms loss 1% rate 10mbit$/);
  t.match(shapingCommands('v', { rateMbit: null, delayMs: 20, jitterMs: 0, lossPct: 0 }, 1500), [['qdisc', 'add', 'dev', 'v', 'root', 'handle', 'd1e:', 'netem']]);
  t.same(shapingCommands('v', { rateMbit: null, delayMs: 0, jitterMs: 0, lossPct: 0 }, 1500), [], 'nothing to install without shaping');
  t.match(shapingCommands('v', { ...RATE, rateMbit: 50 }, 1500)[0], ['qdisc', 'add', 'dev', 'v', 'root', 'handle', 'd1e:', 'tbf', 'rate', '50mbit', 'burst', '6250'], '1 ms of the rate when that exceeds two packets');
});

t.test('shaping respects what it finds on the interface', { skip: NEEDS_ROOT }, async (t) => {
  const lab = await createLabNetwork();
  t.teardown(lab.teardown);
  const iface = lab.edgeIface;
  await execa('tc', ['qdisc', 'add', 'dev', iface, 'root', 'handle', '1:', 'tbf', 'rate', '100mbit', 'burst', '10kb', 'latency', '50ms']);
  await t.rejects(applyShaping(iface, RATE), new UserError(`${iface} already has a 'tbf' root qdisc (handle 1:) that this tool did not install; remove it (tc qdisc del dev ${iface} root), shape another interface, or pass --no-shape`));
  t.match(await tcShow(iface), /qdisc tbf 1: root/, "somebody else's qdisc is untouched");
  await execa('tc', ['qdisc', 'del', 'dev', iface, 'root']);

  // A qdisc with our handle and no living owner (a killed run's) is replaced.
  await execa('tc', ['qdisc', 'add', 'dev', iface, 'root', 'handle', 'd1e:', 'tbf', 'rate', '1mbit', 'burst', '10kb', 'latency', '50ms']);
  await applyShaping(iface, RATE);
  t.match(await tcShow(iface), /qdisc tbf d1e: root .*rate 10Mbit/);
  // Changing the condition replaces our own shaping in place.
  await applyShaping(iface, { ...RATE, rateMbit: 25 });
  t.match(await tcShow(iface), /qdisc tbf d1e: root .*rate 25Mbit/);
  await restoreShaping(iface);
  t.notMatch(await tcShow(iface), /d1e:/);

  // ... but not when a living run has recorded it as its own.
  const other = execa('sleep', ['30'], { reject: false });
  t.teardown(() => other.kill('SIGKILL'));
  const claim = join(stateDir(), `state-${other.pid}.json`);
  mkdirSync(stateDir(), { recursive: true });
  writeFileSync(claim, JSON.stringify({ pid: other.pid, startTime: readProcStat(other.pid!)!.startTime, changes: [{ kind: 'qdisc', iface }] }));
  t.teardown(() => rmSync(claim, { force: true }));
  await execa('tc', ['qdisc', 'add', 'dev', iface, 'root', 'handle', 'd1e:', 'tbf', 'rate', '1mbit', 'burst', '10kb', 'latency', '50ms']);
  await t.rejects(applyShaping(iface, RATE), new UserError(`another dnn-partition-bench run (pid ${other.pid}) is shaping ${iface}: wait for it to finish, or shape another interface`));
  t.match(await tcShow(iface), /qdisc tbf d1e: root .*rate 1Mbit/, "the other run's shaping is untouched");
  await execa('tc', ['qdisc', 'del', 'dev', iface, 'root']);

  await t.rejects(applyShaping('dnn-nosuchif', RATE), { name: 'UserError', message: /network interface 'dnn-nosuchif' does not exist/ });
});

t.test('without root: one clear line', { skip: NEEDS_ROOT }, async (t) => {
  // nobody (65534) may not be able to read the checkout (a clone in a 0700 folder): it runs a readable copy
  const copy = readableCopy(fileURLToPath(new URL('../../src/conditions/tc.js', import.meta.url)));
  t.teardown(copy.remove);
  const tcModule = copy.entry;
  const script = `import(${JSON.stringify(tcModule)}).then((m) => m.applyShaping('lo', { rateMbit: 10, delayMs: 0, jitterMs: 0, lossPct: 0 })).catch((e) => { console.log(e.name + ': ' + e.message); });`;
  const r = await execa(process.execPath, ['-e', script], { uid: 65534, gid: 65534, reject: false });
  t.equal(String(r.stdout), 'UserError: shaping the network (tc) needs root: run with sudo, or pass --no-shape to measure the network as it is', String(r.stderr));
});

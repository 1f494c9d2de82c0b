import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { selectBackend } from '../../src/engine/backend.js';
import { loadNetwork } from '../../src/engine/load-network.js';
import { connect } from '../../src/protocol/connection.js';
import { PROTOCOL_VERSION } from '../../src/protocol/constants.js';
import { processGroup } from '../../src/conditions/proc.js';
import { hostInfo } from '../../src/host-info.js';
import { NEEDS_ROOT } from '../helpers/root.js';
import { startCloud } from '../helpers/cloud-process.js';

/** How long the stressors may take to be gone after their dnn-cloud is killed. */
const GRACE_MS = 10_000;

for (const stressor of ['stress-ng', 'builtin']) {
  t.test(`${stressor}: after kill -9 of a dnn-cloud running CPU and memory stress, no stressor is alive ${GRACE_MS / 1000} s later`, { skip: NEEDS_ROOT, timeout: 180_000 }, async (t) => {
    await selectBackend('auto');
    const network = await loadNetwork('lenet', { seed: 1 });
    const cloud = await startCloud('lenet', ['--stressor', stressor]);
    const c = await connect(cloud.port, '127.0.0.1');
    t.teardown(() => c.destroy());
    await c.request({ type: 'HELLO', version: PROTOCOL_VERSION, network: 'lenet', fingerprint: network.fingerprint, seed: 1, backend: 'test', client: hostInfo() }, 'WELCOME');
    const ack = await c.request({ type: 'CONDITION', id: 1, cpu: 50, mem: 1 }, 'CONDITION_ACK');
    const pids = ack.stressor.pids as number[];
    t.equal(pids.length, 2, `a CPU and a memory stressor run (${String(ack.stressor.kind)}: ${pids.join(', ')})`);
    const members = pids.flatMap((p) => processGroup(p).map((s) => s.pid));
    cloud.proc.kill('SIGKILL');
    await cloud.proc;
    // by pid, not group: a process that left its group would escape a group check
    const survivors = () => pids.flatMap((p) => processGroup(p).map((s) => s.pid)).concat(members.filter((p) => processGroup(p).length === 0 && isAlive(p)));
    // They get SIGKILL at once (parent-death signal); a stress-ng memory worker then unmaps its
    // hundreds of MB, which took over 2 s on the loaded 2-core machine. Poll, and say how long it took.
    const t0 = Date.now();
    let alive = survivors();
    while (alive.length > 0 && Date.now() - t0 < GRACE_MS) {
      await sleep(100);
      alive = survivors();
    }
    t.same(alive, [], `none of the ${members.length} stressor processes is alive ${GRACE_MS / 1000} s after the kill (all gone after ${Date.now() - t0} ms)`);
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Cloud stress is a cloud-wide lease: two real edge links (ProtocolLink and the edge's condition
// controller, as dnn-edge drives them) on one loopback cloud. The second edge, asking for another
// stress, is refused with CONDITION_CONFLICT before it measures anything; equal stress is shared;
// once the holder leaves the other can take it; every RESULT says the stress in force and its epoch.
// The stressor is a recorder of what the cloud asks it (real stressors: cloud-stress.serial.test.ts).
import t from 'tap';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runBin } from '../helpers/cli.js';
import { selectBackend } from '../../src/engine/backend.js';
import { loadNetwork } from '../../src/engine/load-network.js';
import { benchmarkInput } from '../../src/engine/split-runner.js';
import { InferenceService } from '../../src/cloud/inference-service.js';
import { CloudServer, type CloudStress } from '../../src/cloud/server.js';
import { ProtocolLink } from '../../src/edge/protocol-link.js';
import { EdgeConditionController } from '../../src/edge/condition-controller.js';
import { CloudStressMismatch, ConditionConflict } from '../../src/edge/cloud-link.js';
import { NO_CONDITION, type Condition } from '../../src/conditions/condition.js';
import { PROTOCOL_VERSION } from '../../src/protocol/constants.js';
import { hostInfo } from '../../src/host-info.js';

await selectBackend('auto');
const network = await loadNetwork('lenet', { seed: 1 });
const service = new InferenceService(network);
const cut = network.cuts.find((c) => c.layer === 'dense_1')!;
const x = benchmarkInput(cut.shape, 1);

/** What the cloud asked its stressor to do, in order. */
class RecordingStress implements CloudStress {
  readonly calls: string[] = [];
  async set(cpu: number, mem: number): Promise<Record<string, unknown>> {
    this.calls.push(`${cpu}/${mem}`);
    return { kind: cpu === 0 && mem === 0 ? 'none' : 'recorded', pids: [] };
  }
  async stop(): Promise<void> {
    this.calls.push('stop');
  }
}

const logs: string[] = [];
const stress = new RecordingStress();
const server = new CloudServer(service, { ...hostInfo(), backend: 'test', versions: {}, cuts: network.cuts.map((c) => c.layer) }, {
  port: 0,
  host: '127.0.0.1',
  maxFrame: 1 << 20,
  stress,
  log: (l) => logs.push(l),
});
const { port } = await server.listen();
t.teardown(() => server.close());

async function edge(host: string) {
  const link = await ProtocolLink.open({
    host: '127.0.0.1',
    port,
    hello: { type: 'HELLO', version: PROTOCOL_VERSION, network: network.id, fingerprint: network.fingerprint, seed: 1, backend: 'test', client: { ...hostInfo(), host } },
    maxFrame: 1 << 20,
    requestTimeoutMs: 10_000,
    giveUpMs: 2000,
    log: () => {},
  });
  return { link, controller: new EdgeConditionController({ iface: null, stressor: 'builtin', link }) };
}
const at = (ccpu: number, cmem = 0): Condition => ({ ...NO_CONDITION, ccpu, cmem });

t.test('the second edge asking for another stress is refused before it measures anything; equal stress is shared; the holder gone, it can take it', async (t) => {
  const a = await edge('edge-a');
  const b = await edge('edge-b');
  // A measures "no cloud stress": it holds that too
  await a.controller.apply(at(0));
  t.same((await a.link.infer(cut, x)).cloudStress, { cpu: 0, mem: 0, epoch: 0 }, 'RESULT: no stress, epoch 0');
  t.same(stress.calls, [], 'nothing to start for 0/0');

  const refused = await b.controller.apply(at(100)).catch((e: unknown) => e);
  t.ok(refused instanceof ConditionConflict, 'B is stopped with a typed error (exit 2)');
  t.match((refused as Error).message, /refused cloud stress cpu 100 % mem 0 %: cloud stress cpu 0 % mem 0 % is held by client 1 \(edge-a, 127\.0\.0\.1:\d+\)/, 'naming who holds what');
  t.same(stress.calls, [], 'and the stress A measures was never touched');
  t.ok(logs.some((l) => /client 2 .*refused CONDITION cpu 100 % mem 0 %: cpu 0 % mem 0 % is held by client 1 \(edge-a/.test(l)), 'one log line at the cloud');

  // equal stress is shared
  await b.controller.apply(at(0));
  const [ra, rb] = await Promise.all([a.link.infer(cut, x), b.link.infer(cut, x)]);
  t.same([ra.cloudStress, rb.cloudStress], [{ cpu: 0, mem: 0, epoch: 0 }, { cpu: 0, mem: 0, epoch: 0 }]);
  // B alone cannot move it while A holds it, even from a shared lease
  t.ok((await b.controller.apply(at(50)).catch((e: unknown) => e)) instanceof ConditionConflict, 'still refused while A holds 0/0');

  // A leaves: B can take the stress it wants; the epoch moves
  await a.controller.close();
  await a.link.close();
  for (let i = 0; i < 50 && !logs.some((l) => /client 1 .*disconnected/.test(l)); i++) await new Promise((r) => setTimeout(r, 20));
  await b.controller.apply(at(50));
  t.same(stress.calls, ['50/0'], 'started once B holds it');
  t.same((await b.link.infer(cut, x)).cloudStress, { cpu: 50, mem: 0, epoch: 1 }, 'RESULT: the stress in force, epoch bumped');

  // an edge that holds nothing (never sent a CONDITION) is computed under B's stress: its link refuses that RESULT
  const c = await edge('edge-c');
  t.ok((await c.link.infer(cut, x).catch((e: unknown) => e)) instanceof CloudStressMismatch, 'a RESULT under another stress is never a sample');
  // equal to B's: shared, no restart of the stressor
  await c.controller.apply(at(50));
  t.same((await c.link.infer(cut, x)).cloudStress, { cpu: 50, mem: 0, epoch: 1 });
  t.same(stress.calls, ['50/0'], 'an equal CONDITION joins the lease without restarting the stress');

  // B leaves: C still holds 50 %, it stays; C leaves: the stress stops (epoch 2)
  await b.link.close();
  await new Promise((r) => setTimeout(r, 100));
  t.same(stress.calls, ['50/0'], 'kept while one holder remains');
  await c.link.close();
  for (let i = 0; i < 50 && stress.calls.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
  t.same(stress.calls, ['50/0', '0/0'], 'stopped when the last holder left');
  const d = await edge('edge-d');
  t.same((await d.link.infer(cut, x)).cloudStress, { cpu: 0, mem: 0, epoch: 2 }, 'a new edge sees no stress, in a new epoch');
  await d.link.close();
});

t.test('dnn-edge itself: started while another edge holds a cloud stress, it exits 2 naming the holder, before measuring anything', async (t) => {
  const holder = await edge('edge-holder');
  await holder.controller.apply(at(30));
  const out = await mkdtemp(path.join(tmpdir(), 'dnn-conflict-'));
  const r = await runBin('dnn-edge', ['127.0.0.1', 'lenet', '--port', String(port), '--out', out, '--give-up', '3s', '--reps', '2', '--no-shape', '--edge-cpu', '0', '--edge-mem', '0', '--cloud-cpu', '0', '--cloud-mem', '0', '--reference-every', '0'], { timeout: 20_000 });
  t.equal(r.exitCode, 2, String(r.stderr));
  t.match(String(r.stderr), /cloud stress cpu 30 % mem 0 % is held by client \d+ \(edge-holder, 127\.0\.0\.1:\d+\)/, 'the cloud says who holds what');
  t.notMatch(String(r.stderr), /warm-up:|\n\s+at /, 'refused before warm-up; no stack trace');
  t.same(await readdir(out), [], 'no results file: nothing was measured');
  await holder.controller.close();
  await holder.link.close();
});

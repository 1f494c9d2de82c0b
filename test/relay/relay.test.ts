// Three tiers end to end on loopback, in one process (real TCP, real inference, the real servers):
// a dnn-cloud (CloudServer over InferenceService), a dnn-relay (openRelay) connected to it, and a
// device (ProtocolLink + measureTiers), each tier with its own copy of lenet. Every kind of
// configuration gives the full model's output; the samples' parts add up; cloud stress asked of the
// relay reaches the cloud (its stressor is a recorder, as in shared-stress.test.ts); the relay's
// refusals (no cloud, another network, x after y) are one-line errors.
import t, { type Test } from 'tap';
import { selectBackend } from '../../src/engine/backend.js';
import { loadNetwork } from '../../src/engine/load-network.js';
import { benchmarkInput, createSplitRunner } from '../../src/engine/split-runner.js';
import { InferenceService } from '../../src/cloud/inference-service.js';
import { CloudServer, type CloudStress } from '../../src/cloud/server.js';
import { ProtocolLink } from '../../src/edge/protocol-link.js';
import { measureTiers, type TierSample } from '../../src/edge/measure-tiers.js';
import { openRelay, type RelayOptions } from '../../src/relay/open-relay.js';
import { PROTOCOL_VERSION } from '../../src/protocol/constants.js';
import { hostInfo } from '../../src/host-info.js';
import { configLabel, type TierConfig } from '../../src/model/tier-configs.js';
import { relErr } from '../helpers/compare.js';

await selectBackend('auto', { threads: 1 });
// the onnx runner takes over a network's weights: each tier loads its own
const load = () => loadNetwork('lenet', { seed: 1 });
const [cloudNet, relayNet, deviceNet] = [await load(), await load(), await load()];

class RecordingStress implements CloudStress {
  readonly calls: string[] = [];
  async set(cpu: number, mem: number): Promise<Record<string, unknown>> {
    this.calls.push(`${cpu}/${mem}`);
    return { kind: 'recorded', pids: [] };
  }
  async stop(): Promise<void> {}
}

const stress = new RecordingStress();
const service = new InferenceService(cloudNet);
const cloud = new CloudServer(service, { ...hostInfo(), backend: 'test', versions: {}, cuts: cloudNet.cuts.map((c) => c.layer) }, {
  port: 0, host: '127.0.0.1', maxFrame: 1 << 20, stress, log: () => {},
});
const cloudPort = (await cloud.listen()).port;
t.teardown(async () => {
  await cloud.close();
  await service.dispose();
});

const relayLog: string[] = [];
const relayOptions = (o: Partial<RelayOptions> = {}): RelayOptions => ({
  network: relayNet, backend: { name: 'test', versions: {} }, next: { host: '127.0.0.1', port: cloudPort }, listen: { host: '127.0.0.1', port: 0 },
  maxFrame: 1 << 20, timeoutMs: 10_000, giveUpMs: 2000, log: (l) => relayLog.push(l), ...o,
});
const relay = await openRelay(relayOptions());
const relayPort = (await relay.server.listen()).port;
t.teardown(() => relay.close());

const device = await ProtocolLink.open({
  host: '127.0.0.1', port: relayPort, maxFrame: 1 << 20, requestTimeoutMs: 10_000, giveUpMs: 2000, log: () => {},
  hello: { type: 'HELLO', version: PROTOCOL_VERSION, network: deviceNet.id, fingerprint: deviceNet.fingerprint, seed: 1, backend: 'test', client: hostInfo() },
});
t.teardown(() => device.close());
const runner = createSplitRunner(deviceNet);
t.teardown(() => runner.dispose());
const x = benchmarkInput(deviceNet.inputShape, 3);
const full = (await runner.full(x)).value;

const cuts = deviceNet.cuts;
const [input, output] = [cuts[0]!, cuts.at(-1)!];
const a = cuts[3]!;
const b = cuts[7]!;

function consistent(t: Test, s: TierSample, what: string): void {
  for (const [k, v] of Object.entries(s)) t.ok(Number.isFinite(v) && v >= 0, `${what}: ${k} ${v.toFixed(0)} µs is finite, not negative`);
  const parts = s.device + s.device_transfer + s.edge + s.transfer + s.cloud;
  t.ok(s.total >= parts - 1, `${what}: total ${s.total.toFixed(0)} µs holds its parts (${parts.toFixed(0)} µs)`);
}

t.test('the relay says what it is and where it forwards', async (t) => {
  t.match(device.server!.relay, { next: `127.0.0.1:${cloudPort}`, cloud: { backend: 'test' } });
  t.same(device.server!.cuts, cuts.map((c) => c.layer), 'the same points as the cloud');
});

t.test('every kind of (x, y) gives the full model\'s output; each tier does its part', async (t) => {
  const configs: [TierConfig, string][] = [
    [{ x: a, y: b }, 'three tiers'],
    [{ x: a, y: a }, 'x = y: the relay forwards'],
    [{ x: input, y: b }, 'x = input: the device computes nothing'],
    [{ x: input, y: input }, 'cloud only'],
    [{ x: a, y: output }, 'y = output: the relay answers itself'],
    [{ x: input, y: output }, 'edge only'],
  ];
  for (const [config, what] of configs) {
    const label = `${configLabel(config)} (${what})`;
    const before = cloud.queueStats.started;
    const sent = (await runner.edge(config.x, x)).value;
    const r = await device.infer(config.x, sent, undefined, { cut2: config.y });
    t.ok(relErr(r.output.data, full.data) <= 1e-5, `${label}: the full model's output`);
    const cloudUsed = config.y.kind !== 'output';
    t.equal(cloud.queueStats.started - before, cloudUsed ? 1 : 0, `${label}: the cloud ${cloudUsed ? 'computed once' : 'was not asked'}`);
    t.equal(r.relay!.edgeMs === 0, config.x === config.y, `${label}: relay compute ${r.relay!.edgeMs.toFixed(3)} ms is 0 exactly when x = y`);
    if (!cloudUsed) t.same([r.cloudMs, r.relay!.transferMs], [0, 0], `${label}: no cloud time, no cloud link`);
    else t.ok(r.cloudMs > 0, `${label}: the cloud's compute as it reported it`);
    const s = await measureTiers(runner, device, config, { tensor: x });
    consistent(t, s, label);
    t.equal(s.edge === 0, config.x === config.y, `${label}: edge 0 exactly when x = y`);
    t.equal(s.cloud === 0 && s.transfer === 0, !cloudUsed, `${label}: cloud and transfer 0 exactly when the cloud is unused`);
  }
  const s = await measureTiers(runner, device, { x: output, y: output }, { tensor: x });
  t.same([s.device_transfer, s.edge, s.transfer, s.cloud], [0, 0, 0, 0], 'x = output: the device does everything, nothing is sent');
  t.ok(s.device > 0 && s.total >= s.device, 'and its compute is the total\'s');
});

t.test('cloud stress asked of the relay is applied at the cloud and reported back', async (t) => {
  const ack = await device.setCloudStress(30, 0);
  t.match(ack, { cpu: 30, stressor: 'recorded' }, 'acknowledged once the cloud has it');
  t.same(stress.calls, ['30/0'], "the cloud's stressor was asked");
  const r = await device.infer(a, (await runner.edge(a, x)).value, undefined, { cut2: b });
  t.match(r.cloudStress, { cpu: 30, mem: 0 }, 'the RESULT carries the stress in force at the cloud');
  const own = await device.infer(a, (await runner.edge(a, x)).value, undefined, { cut2: output });
  t.match(own.cloudStress, { cpu: 30, mem: 0 }, 'also when the relay answers itself (the stress it holds)');
  await device.setCloudStress(0, 0);
  t.same(stress.calls, ['30/0', '0/0']);
});

t.test('x after y is refused (the device redoes it after reconnecting); a plain INFER to a relay too', async (t) => {
  const sent = (await runner.edge(b, x)).value;
  await t.rejects(device.infer(b, sent, undefined, { cut2: a }), { reason: 'error-reply', message: /UNKNOWN_CUT: the second cut '.*' comes before the first/ });
  t.ok(relayLog.some((l) => /second cut '.*' comes before the first/.test(l)), 'one log line at the relay');
  await device.reconnect();
  await t.rejects(device.infer(b, sent), { message: /an INFER must name a second cut/ });
  await device.reconnect();
  const ok = await device.infer(a, (await runner.edge(a, x)).value, undefined, { cut2: b });
  t.ok(relErr(ok.output.data, full.data) <= 1e-5, 'the link serves again');
});

t.test('a second cut to a plain dnn-cloud is refused on the device, before sending', async (t) => {
  const direct = await ProtocolLink.open({
    host: '127.0.0.1', port: cloudPort, maxFrame: 1 << 20, requestTimeoutMs: 10_000, giveUpMs: 2000, log: () => {},
    hello: { type: 'HELLO', version: PROTOCOL_VERSION, network: deviceNet.id, fingerprint: deviceNet.fingerprint, seed: 1, backend: 'test', client: hostInfo() },
  });
  t.teardown(() => direct.close());
  await t.rejects(direct.infer(a, (await runner.edge(a, x)).value, undefined, { cut2: b }), { name: 'UserError', message: /is a dnn-cloud, not a dnn-relay/ });
});

t.test('a relay that cannot reach its cloud, or serves another network, does not start', async (t) => {
  await t.rejects(openRelay(relayOptions({ next: { host: '127.0.0.1', port: 1 }, giveUpMs: 300 })), { name: 'UserError', message: /^the next host 127\.0\.0\.1:1 stayed unreachable/ });
  const other = await loadNetwork('lenet', { seed: 2 });
  await t.rejects(openRelay(relayOptions({ network: other })), { name: 'UserError', message: /^the cloud at 127\.0\.0\.1:\d+ refused this relay: edge runs lenet .* but this cloud serves lenet/ });
});

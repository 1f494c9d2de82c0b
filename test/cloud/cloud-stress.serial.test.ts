import t from 'tap';
import { availableParallelism } from 'node:os';
import { selectBackend } from '../../src/engine/backend.js';
import { loadNetwork } from '../../src/engine/load-network.js';
import { InferenceService } from '../../src/cloud/inference-service.js';
import { CloudServer } from '../../src/cloud/server.js';
import { LocalCloudStress } from '../../src/cloud/cloud-stress.js';
import { connect } from '../../src/protocol/connection.js';
import { PROTOCOL_VERSION } from '../../src/protocol/constants.js';
import { processGroup, CLOCK_TICKS_PER_SECOND } from '../../src/conditions/proc.js';
import { hostInfo } from '../../src/host-info.js';
import { NEEDS_ROOT } from '../helpers/root.js';

const groupSeconds = (pids: number[]) => pids.flatMap((p) => processGroup(p)).reduce((s, p) => s + p.cpuTicks, 0) / CLOCK_TICKS_PER_SECOND;

t.test('a CONDITION makes the cloud really load its CPU, and ends with the edge', { skip: NEEDS_ROOT }, async (t) => {
  // the backend does not matter here: wasm, as before auto preferred onnx
  await selectBackend('wasm');
  const network = await loadNetwork('lenet', { seed: 1 });
  const stress = new LocalCloudStress('auto');
  const server = new CloudServer(new InferenceService(network), { ...hostInfo(), backend: 'test', versions: {}, cuts: [] }, {
    port: 0,
    host: '127.0.0.1',
    maxFrame: 1 << 20,
    stress,
    log: () => {},
  });
  const { port } = await server.listen();
  const c = await connect(port, '127.0.0.1');
  await c.request({ type: 'HELLO', version: PROTOCOL_VERSION, network: 'lenet', fingerprint: network.fingerprint, seed: 1, backend: 'test', client: hostInfo() }, 'WELCOME');
  const ack = await c.request({ type: 'CONDITION', id: 1, cpu: 50, mem: 0 }, 'CONDITION_ACK');
  const pids = ack.stressor.pids as number[];
  t.ok(pids.length >= 1, `stressors started (${String(ack.stressor.kind)}: ${pids.join(', ')})`);
  const s0 = groupSeconds(pids);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 1500));
  const rate = (groupSeconds(pids) - s0) / ((performance.now() - t0) / 1000);
  const expected = availableParallelism() * 0.5;
  t.comment(`cloud stressors burnt ${rate.toFixed(2)} CPU-s/s, expected ${expected.toFixed(2)}`);
  t.ok(rate >= 0.3 * expected && rate <= 1.3 * expected, `CPU time of the cloud's stressors (${rate.toFixed(2)} CPU-s/s) near ${expected}`);

  // the edge goes away: its stress must not outlive it
  c.destroy();
  for (let i = 0; i < 100 && pids.some((p) => processGroup(p).length > 0); i++) await new Promise((r) => setTimeout(r, 50));
  t.same(pids.filter((p) => processGroup(p).length > 0), [], 'stressors ended when the edge that asked for them left');
  await server.close();
});

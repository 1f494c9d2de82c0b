// 16 clients at once on one loopback cloud: 8 valid pipelined streams (4 requests in flight each),
// 3 slow senders trickling their frames, 1 greedy sender bursting 200 INFERs at a queue of 16, and
// 4 malformed clients. Every valid request is answered correctly, the greedy one gets QUEUE_FULL
// (a typed error with its id) for what did not fit, the malformed ones an ERROR and a close, and the
// cloud keeps serving. Counts only, no timings (a shared CPU). Figures: npm run bench:concurrency.
import t from 'tap';
import { selectBackend } from '../../src/engine/backend.js';
import { loadNetwork } from '../../src/engine/load-network.js';
import { benchmarkInput } from '../../src/engine/split-runner.js';
import { InferenceService } from '../../src/cloud/inference-service.js';
import { CloudServer } from '../../src/cloud/server.js';
import { largestInferFrame } from '../../src/cloud/frame-cap.js';
import { hostInfo } from '../../src/host-info.js';
import { runMix } from '../helpers/client-mix.js';

await selectBackend('auto');
const network = await loadNetwork('lenet', { seed: 1 });
const service = new InferenceService(network);
await service.warmUp();
const cuts = ['dense_1', 'max_pooling2d_1', 'conv2d_1_input'].map((l) => network.cuts.find((c) => c.layer === l)!);
const expected = new Map<string, Float32Array>();
for (const c of cuts) expected.set(c.layer, (await service.infer(c.layer, benchmarkInput(c.shape, 1))).value.data.slice());

t.test('16 concurrent clients: malformed, slow, greedy and valid pipelined streams', async (t) => {
  const logs: string[] = [];
  const maxFrame = largestInferFrame(network.cuts);
  const server = new CloudServer(service, { ...hostInfo(), backend: 'test', versions: {}, cuts: network.cuts.map((c) => c.layer) }, {
    port: 0,
    host: '127.0.0.1',
    maxFrame,
    queue: 16,
    log: (l) => logs.push(l),
  });
  const { port } = await server.listen();
  const counts = await runMix({ port, network, expected, cuts, valid: 8, requests: 20, inFlight: 4, slow: 3, malformed: 4, greedyBurst: 200 });
  t.same(counts.valid.answered, 8 * 20, 'every valid request answered');
  t.same(counts.valid.correct, 8 * 20, '... with the output of its point');
  t.same([counts.slow.answered, counts.slow.correct], [3, 3], 'the slow senders, assembled byte by byte, answered correctly');
  const g = counts.greedy;
  t.equal(g.results + g.queueFull, 200, 'every greedy request answered: RESULT or QUEUE_FULL');
  t.ok(g.queueFull > 0, `the greedy burst overfilled the queue: ${g.queueFull} QUEUE_FULL with their ids`);
  t.same([g.correct, g.other], [g.results, 0], 'its RESULTs correct, nothing else came back');
  t.same([counts.malformed.errors, counts.malformed.closed], [4, 4], 'each malformed client got an ERROR and a close');
  const q = server.queueStats;
  t.ok(q.peak <= 16, `the queue never held more than its 16 (peak ${q.peak})`);
  t.equal(q.refused, g.queueFull + counts.valid.queueFull + counts.slow.queueFull, 'every refusal counted at the cloud was one the clients saw');
  t.comment(`valid streams retried ${counts.valid.queueFull} QUEUE_FULL, slow senders ${counts.slow.queueFull}; started ${q.started}, refused ${q.refused}, dropped ${q.dropped}`);
  t.ok(logs.some((l) => /FRAME_TOO_LARGE: frame of 2147483648 bytes exceeds the limit of 75040/.test(l)), "frames past the network's largest INFER are refused from their prefix");
  // and it still serves
  const after = await runMix({ port, network, expected, cuts, valid: 1, requests: 3, inFlight: 1, slow: 0, malformed: 0, greedyBurst: 1 });
  t.same([after.valid.correct, after.greedy.correct], [3, 1], 'still serving afterwards');
  await server.close();
});

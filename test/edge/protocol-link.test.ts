// The edge's link over loopback: INFER names a point by its index in the cloud's WELCOME list, and a
// cloud of another protocol version stops the run (exit 2). No root, no namespaces.
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import path from 'node:path';
import t from 'tap';
import { InferenceService } from '../../src/cloud/inference-service.js';
import { CloudServer } from '../../src/cloud/server.js';
import { selectBackend } from '../../src/engine/backend.js';
import { benchmarkInput } from '../../src/engine/split-runner.js';
import { ProtocolLink } from '../../src/edge/protocol-link.js';
import { CloudStressMismatch, LinkFailure } from '../../src/edge/cloud-link.js';
import { UserError } from '../../src/errors.js';
import { hostInfo } from '../../src/host-info.js';
import { loadNetwork } from '../../src/engine/load-network.js';
import { Connection } from '../../src/protocol/connection.js';
import { PROTOCOL_VERSION } from '../../src/protocol/constants.js';
import type { HelloMessage } from '../../src/protocol/messages.js';
import { FIXTURES } from '../helpers/cli.js';
import { f16Codec } from '../../src/codecs/f16.js';

await selectBackend('auto');
const network = await loadNetwork('lenet', { seed: 1 });
const service = new InferenceService(network);
const hello: HelloMessage = { type: 'HELLO', version: PROTOCOL_VERSION, network: network.id, fingerprint: network.fingerprint, seed: 1, backend: 'test', client: hostInfo() };
const open = (port: number) => ProtocolLink.open({ host: '127.0.0.1', port, hello, maxFrame: 1 << 20, requestTimeoutMs: 10_000, giveUpMs: 2000, log: () => {} });

t.test("INFER names the point by its index in the cloud's list, whatever its order", async (t) => {
  // The cloud lists its points in reverse and leaves the first one out: the edge's own order would name the wrong one.
  const listed = network.cuts.slice(1).map((c) => c.layer).reverse();
  const server = new CloudServer(service, { ...hostInfo(), backend: 'test', versions: {}, cuts: listed }, { port: 0, host: '127.0.0.1', maxFrame: 1 << 20, log: () => {} });
  const { port } = await server.listen();
  const link = await open(port);
  for (const cut of network.cuts.slice(1).filter((c) => c.kind !== 'output')) {
    const x = benchmarkInput(cut.shape, 1);
    const reply = await link.infer(cut, x);
    const direct = await service.infer(cut.layer, x);
    t.same(reply.output.shape, direct.value.shape, `${cut.layer}: the cloud ran this point`);
    t.same(Array.from(reply.output.data), Array.from(direct.value.data), `${cut.layer}: same output`);
  }
  const first = network.cuts[0]!;
  await t.rejects(link.infer(first, benchmarkInput(first.shape, 1)), UserError, 'a point the cloud does not list stops the run');
  await link.close();
  await server.close();
});

/** A cloud that answers the HELLO with `reply`'s frame bytes. */
async function fakeCloud(reply: (c: Connection) => void): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((socket) => {
    const c = new Connection(socket);
    c.next().then(() => reply(c), () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

t.test('a cloud of another protocol version stops the edge with a user error', async (t) => {
  const old = await fakeCloud((c) => c.socket.end(readFileSync(path.join(FIXTURES, 'protocol/v1-error-version-mismatch.bin'))));
  await t.rejects(open(old.port), { name: 'UserError', message: /the cloud refused this edge: protocol version 2 but this cloud speaks 1/ }, "a version 1 cloud's refusal");
  await old.close();
  const welcomesOld = await fakeCloud((c) => c.send({ type: 'WELCOME', version: 1, server: { ...hostInfo(), backend: 'x', versions: {}, cuts: [] } }));
  await t.rejects(open(welcomesOld.port), { name: 'UserError', message: /protocol version 1, this edge 3 \(VERSION_MISMATCH\)/ }, 'a WELCOME of version 1');
  await welcomesOld.close();
  // version 2, with the bytes a version 2 cloud wrote
  const v2 = await fakeCloud((c) => c.socket.end(readFileSync(path.join(FIXTURES, 'protocol/v2-error-version-mismatch.bin'))));
  await t.rejects(open(v2.port), { name: 'UserError', message: /the cloud refused this edge: protocol version 3 but this cloud speaks 2/ }, "a version 2 cloud's refusal");
  await v2.close();
  const welcomesV2 = await fakeCloud((c) => c.socket.end(readFileSync(path.join(FIXTURES, 'protocol/v2-welcome.bin'))));
  await t.rejects(open(welcomesV2.port), { name: 'UserError', message: /protocol version 2, this edge 3 \(VERSION_MISMATCH\)/ }, 'a WELCOME of version 2');
  await welcomesV2.close();
});

t.test('an encoded RESULT is decoded by the edge; one that does not decode fails that request (redone after a reconnect)', async (t) => {
  const cut = network.cuts.find((c) => c.kind !== 'output' && c.index > 0)!;
  const values = Float32Array.from({ length: 10 }, (_, i) => i / 4 - 1);
  const f16 = f16Codec.encode(values, [1, 10]);
  let corrupt = false;
  const server = createServer((socket) => {
    const c = new Connection(socket);
    void (async () => {
      for await (const m of c) {
        if (m.type === 'HELLO') c.send({ type: 'WELCOME', version: PROTOCOL_VERSION, server: { ...hostInfo(), backend: 'x', versions: {}, cuts: [cut.layer] } });
        else if (m.type === 'INFER' && !corrupt) c.send({ type: 'RESULT', id: m.id, cloudUs: 1, decodeUs: 7, tensor: { shape: [1, 10], data: new Float32Array(0) }, codec: { id: 1, scale: 0, zeroPoint: 0, params: new Uint8Array(0) }, payload: f16.payload });
        // lz4 whose block does not decode: the protocol cannot tell, the edge's decoder does
        else if (m.type === 'INFER') c.send({ type: 'RESULT', id: m.id, cloudUs: 1, tensor: { shape: [1, 10], data: new Float32Array(0) }, codec: { id: 4, scale: 0, zeroPoint: 0, params: new Uint8Array(0) }, payload: new Uint8Array([0xff, 0xff, 0xff, 0x7f, 1, 2, 3]) });
      }
    })().catch(() => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const link = await open((server.address() as AddressInfo).port);
  const reply = await link.infer(cut, benchmarkInput([1, ...cut.shape], 1));
  t.same(Array.from(reply.output.data), Array.from(values), 'f16 decoded: these values are exact in half precision');
  t.equal(reply.decodeMs, 0.007, "the cloud's decode time, in ms");
  corrupt = true;
  await t.rejects(link.infer(cut, benchmarkInput([1, ...cut.shape], 1)), new LinkFailure("the cloud's RESULT in tensor codec 4 does not decode: lz4 block claims 2147483647 bytes, the dims need at most 40", 'error-reply'));
  await link.close();
  await new Promise<void>((r) => server.close(() => r()));
});

t.test('requests in flight are matched by id, out of order; an ERROR with an id fails only its request, one without fails all; a RESULT under another stress stops the run', async (t) => {
  const cut = network.cuts.find((c) => c.kind !== 'output' && c.index > 0)!;
  const out = (v: number) => ({ shape: [1, 2], data: Float32Array.from([v, v]) });
  let phase = 0;
  const server = createServer((socket) => {
    const c = new Connection(socket);
    const got: number[] = [];
    void (async () => {
      for await (const m of c) {
        if (m.type === 'HELLO') c.send({ type: 'WELCOME', version: PROTOCOL_VERSION, server: { ...hostInfo(), backend: 'x', versions: {}, cuts: [cut.layer] } });
        else if (m.type === 'CONDITION') c.send({ type: 'CONDITION_ACK', id: m.id, stressor: { kind: 'none' } });
        else if (m.type === 'INFER') {
          got.push(m.id);
          if (phase === 0 && got.length === 4) {
            // the last first: ids 4 and 3 answered, 2 refused by the full queue, 1 with a tensor that does not decode
            const [a, b, q, d] = [...got].reverse();
            c.send({ type: 'RESULT', id: a!, cloudUs: 40, queueUs: 1500, stress: { cpu: 0, mem: 0, epoch: 3 }, tensor: out(a!) });
            c.send({ type: 'RESULT', id: b!, cloudUs: 30, tensor: out(b!) });
            c.send({ type: 'ERROR', code: 'QUEUE_FULL', message: 'queue of 4 is full', id: q! });
            c.send({ type: 'ERROR', code: 'BAD_TENSOR', message: 'does not decode', id: d! });
          } else if (phase === 1 && got.length === 6) c.send({ type: 'ERROR', code: 'BAD_HEADER', message: 'broken' });
          else if (phase === 2) c.send({ type: 'RESULT', id: m.id, cloudUs: 1, stress: { cpu: 100, mem: 0, epoch: 9 }, tensor: out(0) });
        }
      }
    })().catch(() => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const link = await open((server.address() as AddressInfo).port);
  const x = benchmarkInput([1, ...cut.shape], 1);
  const settled = await Promise.allSettled([1, 2, 3, 4].map(() => link.infer(cut, x)));
  t.equal(link.inFlight, 0, 'nothing left in flight');
  t.match(settled[0], { status: 'rejected', reason: { name: 'Error', reason: 'error-reply', message: /BAD_TENSOR: does not decode/ } });
  t.match(settled[1], { status: 'rejected', reason: { reason: 'queue-full', message: /QUEUE_FULL/ } }, 'QUEUE_FULL is its own reason');
  t.ok((settled[1] as PromiseRejectedResult).reason instanceof LinkFailure);
  const ok = settled.slice(2).map((s) => (s as PromiseFulfilledResult<Awaited<ReturnType<typeof link.infer>>>).value);
  t.same(ok.map((r) => r.output.data[0]), [3, 4], 'each RESULT reached the request with its id, though answered in reverse');
  t.same([ok[1]!.queueMs, ok[1]!.cloudStress, ok[1]!.cloudMs], [1.5, { cpu: 0, mem: 0, epoch: 3 }, 0.04], 'queue time and stress in force, from the RESULT');
  t.same([ok[0]!.queueMs, ok[0]!.cloudStress], [0, { cpu: 0, mem: 0, epoch: 0 }]);
  // the connection survived the per-request errors: an ERROR without an id fails everything in flight
  phase = 1;
  const both = await Promise.allSettled([link.infer(cut, x), link.infer(cut, x)]);
  t.match(both, [{ status: 'rejected', reason: { reason: 'error-reply', message: /BAD_HEADER: broken/ } }, { status: 'rejected', reason: { reason: 'error-reply' } }]);
  await link.reconnect();
  phase = 2;
  await t.rejects(link.infer(cut, x), { name: 'UserError', message: /request \d+ under cloud stress cpu 100 % mem 0 % \(stress epoch 9\) but this edge has asked for no cloud stress yet \(cpu 0 % mem 0 %\): another edge changed the cloud's stress/ });
  t.ok((await link.infer(cut, x).catch((e: unknown) => e)) instanceof CloudStressMismatch, 'a typed error: the run stops (exit 2)');
  await link.setCloudStress(100, 0);
  t.equal((await link.infer(cut, x)).cloudStress?.cpu, 100, 'once it holds that stress, the same RESULT is what it asked for');
  await link.close();
  await new Promise<void>((r) => server.close(() => r()));
});

import { connect } from 'node:net';
import type { LabNetwork } from '../../src/conditions/netns.js';

/**
 * A TCP sink inside the lab namespace: it prints its port, reads `bytes` bytes from one connection,
 * then answers with the monotonic time (ns) at which the last byte arrived.
 * CLOCK_MONOTONIC is the same in every process of the machine, so the two ends' times compare.
 */
const SINK = `
const net = require('node:net');
const bytes = Number(process.argv[1]);
const server = net.createServer((s) => {
  let got = 0;
  s.on('data', (d) => {
    got += d.length;
    if (got >= bytes) { const t = process.hrtime.bigint(); s.end(String(t)); server.close(); }
  });
});
server.listen(0, process.argv[2], () => console.log(server.address().port));
`;

/** Seconds from the first byte written at the edge to the last byte received in the namespace. */
export async function timedTransfer(lab: LabNetwork, bytes: number): Promise<number> {
  const sink = lab.spawnInNetns(process.execPath, ['-e', SINK, String(bytes), lab.cloudAddress], { buffer: false, stdout: 'pipe' });
  const port = await new Promise<number>((resolve, reject) => {
    sink.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    sink.once('error', reject);
  });
  const payload = Buffer.alloc(bytes, 7);
  const seconds = await new Promise<number>((resolve, reject) => {
    const sock = connect(port, lab.cloudAddress, () => {
      const t0 = process.hrtime.bigint();
      let answer = '';
      sock.on('data', (d) => (answer += String(d)));
      sock.on('end', () => resolve(Number(BigInt(answer) - t0) / 1e9));
      sock.write(payload);
    });
    sock.on('error', reject);
  });
  await sink;
  return seconds;
}

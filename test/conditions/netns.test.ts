import { createServer, type AddressInfo } from 'node:net';
import t from 'tap';
import { listLinks, listNetns, ownerOfName } from '../../src/conditions/cleanup.js';
import { createLabNetwork } from '../../src/conditions/netns.js';
import { NEEDS_ROOT } from '../helpers/root.js';

t.test('two labs at once: own names, own /30s, commands run inside the namespace', { skip: NEEDS_ROOT }, async (t) => {
  const a = await createLabNetwork();
  t.teardown(a.teardown);
  const b = await createLabNetwork();
  t.teardown(b.teardown);
  for (const lab of [a, b]) {
    t.match(lab.netns, /^dnn-/);
    t.ok(lab.edgeIface.length <= 15 && lab.cloudIface.length <= 15, 'link names fit IFNAMSIZ');
    t.equal(ownerOfName(lab.netns), process.pid, 'the name says who owns it');
    t.equal(ownerOfName(lab.edgeIface), process.pid);
    t.match(lab.edgeAddress, /^198\.1[89]\.\d+\.\d+$/);
  }
  t.not(a.netns, b.netns);
  t.not(a.edgeAddress, b.edgeAddress, 'distinct subnets');

  // The child's pid is the command's own (ip netns exec execs it), and it sees only the lab's links.
  const child = a.spawnInNetns('sh', ['-c', 'cat /proc/self/stat | cut -d" " -f4; ip -o link show; ip -o -4 addr show']);
  const out = String((await child).stdout);
  t.equal(Number(out.split('\n')[0]), child.pid, 'the parent of the reading process is the spawned command');
  t.match(out, new RegExp(`${a.cloudIface}@`));
  t.match(out, new RegExp(`inet ${a.cloudAddress.replace(/\./g, '\\.')}/30`));
  t.notMatch(out, /eth0/, 'the namespace has its own links');
  const server = createServer((s) => s.end('hello from the edge'));
  await new Promise<void>((resolve) => server.listen(0, a.edgeAddress, resolve));
  const port = (server.address() as AddressInfo).port;
  const script = `require('node:net').connect(${port}, '${a.edgeAddress}').on('data', (d) => process.stdout.write(d))`;
  const reply = await a.spawnInNetns(process.execPath, ['-e', script]);
  server.close();
  t.equal(String(reply.stdout), 'hello from the edge', 'the cloud end reaches the edge end');

  await a.teardown();
  t.notOk(listNetns().includes(a.netns), 'teardown deletes the namespace');
  t.notOk(listLinks().includes(a.edgeIface), 'and the veth pair');
  t.ok(listNetns().includes(b.netns), 'the other lab stays');
  await a.teardown(); // idempotent
});

import t from 'tap';
import { isLoopback, openPortWarning } from '../../src/cloud/token.js';
import { startCloud, stopCloud } from '../helpers/cloud-process.js';

t.test('a cloud listening beyond loopback without a token is warned about', async (t) => {
  t.match(openPortWarning('0.0.0.0', 5000, undefined), /^warning: listening on 0\.0\.0\.0:5000 without --token: anyone who reaches this port can start CPU and memory stressors here/);
  t.match(openPortWarning('10.1.2.3', 5000, ''), /without --token/, 'an empty token is no token');
  t.equal(openPortWarning('0.0.0.0', 5000, 'secret'), undefined, 'a token: no warning');
  t.equal(openPortWarning('127.0.0.1', 5000, undefined), undefined, 'loopback: no warning');
  t.ok(isLoopback('::1') && isLoopback('127.0.0.2') && !isLoopback('::') && !isLoopback('198.18.0.1'));
});

t.test('dnn-cloud prints it at start', async (t) => {
  // all interfaces, for the moment it takes to start (nothing connects); the other cases are above
  const open = await startCloud('lenet', ['--backend', 'cpu', '--host', '0.0.0.0']);
  await stopCloud(open);
  t.match(open.log(), /warning: listening on 0\.0\.0\.0:\d+ without --token/);
});

// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
// The remote error codes as both ends see them (in process, milliseconds).
import t from 'tap';
import { RemoteError, isFatalRefusal, isRemoteErrorCode, type RemoteErrorCode } from '../../src/protocol/errors.js';
import { FrameReader } from '../../src/protocol/frame-reader.js';
import { MESSAGE_CODES } from '../../src/protocol/constants.js';
import { type Message, encodeControlFrame, encodeMessage } from '../../src/protocol/messages.js';
import type { ProtocolError } from '../../src/protocol/errors.js';

function decode(chunks: Buffer[]): { messages: Message[]; errors: ProtocolError[] } {
  const messages: Message[] = [];
  const errors: ProtocolError[] = [];
  const reader = new FrameReader<Message>({ onMessage: (m) => messages.push(m), onError: (e) => errors.push(e) });
  for (const c of chunks) reader.push(c);
  return { messages, errors };
}

t.test('an ERROR keeps its code and the peer\'s message as they were sent', async (t) => {
  const codes: RemoteErrorCode[] = ['FINGERPRINT_MISMATCH', 'UNKNOWN_CUT', 'BAD_HEADER', 'STRESS_FAILED'];
  const { messages, errors } = decode(codes.map((code) => Buffer.concat(encodeMessage({ type: 'ERROR', code, message: `why ${code}` }))));
  t.same(errors, []);
  t.same(messages, codes.map((code) => ({ type: 'ERROR', code, message: `why ${code}` })));
  const e = new RemoteError('UNAUTHORIZED', 'wrong token: see --token');
  t.equal(e.peerMessage, 'wrong token: see --token', 'the message is a field: nothing to strip');
  t.equal(e.message, 'peer reported UNAUTHORIZED: wrong token: see --token');
});

t.test('an ERROR with a code this version does not know is a BAD_HEADER that still shows the peer\'s words', async (t) => {
  const frame = Buffer.concat(encodeControlFrame(MESSAGE_CODES.ERROR, { code: 'OVERLOADED', message: 'try later' }));
  const { messages, errors } = decode([frame]);
  t.same(messages, []);
  t.equal(errors[0]?.code, 'BAD_HEADER');
  t.match(errors[0]?.message, /'code'.*try later/);
});

t.test('only refusals of the edge as such are fatal', async (t) => {
  t.same(
    (['UNAUTHORIZED', 'VERSION_MISMATCH', 'FINGERPRINT_MISMATCH', 'TIMEOUT', 'UNKNOWN_CUT', 'BAD_SHAPE', 'UNSUPPORTED', 'STRESS_FAILED', 'BAD_MAGIC', 'UNEXPECTED_MESSAGE'] as const).filter(isFatalRefusal),
    ['UNAUTHORIZED', 'VERSION_MISMATCH', 'FINGERPRINT_MISMATCH'],
  );
  t.ok(isRemoteErrorCode('TRUNCATED'));
  t.notOk(isRemoteErrorCode('NO_SUCH_CUT'));
  t.notOk(isRemoteErrorCode('toString'), 'not fooled by Object.prototype');
});

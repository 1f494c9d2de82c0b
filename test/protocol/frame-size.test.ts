// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
// The byte size the cost model uses is the size of the frames the protocol writes.
import t from 'tap';
import { inferFrameBytes, resultFrameBytes } from '../../src/protocol/frame-size.js';
import { encodeMessage } from '../../src/protocol/messages.js';

const frameLength = (chunks: Buffer[]): number => chunks.reduce((n, c) => n + c.length, 0);
const tensorOf = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });

t.test('inferFrameBytes and resultFrameBytes equal the length of real encoded frames', (t) => {
  // Real partition points (the bench's), odd sizes around the padding, a scalar, an empty tensor, 8 dims.
  const shapes = [[1, 7, 7, 512], [1, 28, 28, 192], [1, 56, 56, 256], [1, 224, 224, 64], [1, 10], [1, 3], [1, 4], [1, 5], [], [0, 4], [2, 1, 2, 1, 2, 1, 2, 3], [1, 14, 14, 20]];
  for (const shape of shapes) {
    const tensor = tensorOf(shape);
    t.equal(inferFrameBytes(shape), frameLength(encodeMessage({ type: 'INFER', id: 4_000_000_000, cut: 12, tensor })), `INFER [${shape}]`);
    t.equal(resultFrameBytes(shape), frameLength(encodeMessage({ type: 'RESULT', id: 1, cloudUs: 1234.5, tensor })), `RESULT [${shape}]`);
    t.equal(inferFrameBytes(shape, 4), inferFrameBytes(shape), '4 bytes per element is the default');
  }
  t.end();
});

t.test('other element sizes count the payload a codec would send', (t) => {
  // 2 bytes per element for [1, 8, 8, 4] is the 512-byte payload of 128 float32.
  t.equal(inferFrameBytes([1, 8, 8, 4], 2), frameLength(encodeMessage({ type: 'INFER', id: 1, cut: 0, tensor: tensorOf([128]) })));
  t.equal(resultFrameBytes([1, 8, 8, 4], 1), frameLength(encodeMessage({ type: 'RESULT', id: 1, cloudUs: 0, tensor: tensorOf([64]) })));
  t.equal(inferFrameBytes([3], 1), 96 + 16, 'a 3-byte payload is padded to 16');
  t.end();
});

t.test('a shape the protocol cannot carry is a RangeError', (t) => {
  t.throws(() => inferFrameBytes([-1]), RangeError);
  t.throws(() => inferFrameBytes([1.5]), RangeError);
  t.throws(() => resultFrameBytes([1, 1, 1, 1, 1, 1, 1, 1, 1]), RangeError);
  t.throws(() => resultFrameBytes([4], 0), RangeError);
  t.end();
});

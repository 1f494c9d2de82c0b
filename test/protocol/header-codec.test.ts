import { Decoder, encode } from '@msgpack/msgpack';
import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import { MAX_HEADER_BYTES } from '../../src/protocol/constants.js';
import { decodeHeader, headerLength, writeHeader } from '../../src/protocol/header-codec.js';
import { randInt, rng } from './helpers.js';

// The reference: @msgpack/msgpack as the protocol used it before the direct codec.
const reference = new Decoder({ maxStrLength: MAX_HEADER_BYTES, maxBinLength: MAX_HEADER_BYTES, maxArrayLength: 1 << 16, maxMapLength: 1 << 16, maxExtLength: 0 });
const referenceBytes = (v: unknown): Buffer => Buffer.from(encode(v, { ignoreUndefined: true }));

function directBytes(fields: Record<string, unknown>, key?: string, value?: unknown): Buffer {
  const buf = Buffer.alloc(headerLength(fields, key, value) + 8, 0xee);
  const end = writeHeader(buf, 3, fields, key, value);
  return buf.subarray(3, end);
}

const NUMBERS = [0, -0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 53) + 1, 0.5, -1e300, Infinity, -Infinity, 2 ** 53, 1e21];

function randomString(r: () => number): string {
  const n = r() < 0.01 ? 70000 : [0, 1, 5, 31, 32, 255, 256][randInt(r, 0, 6)]!;
  const pick = r();
  // Mostly ASCII (the direct path); sometimes accents, emoji or a lone surrogate (the general one).
  const alphabet = pick < 0.8 ? 'abcXYZ_09 ' : pick < 0.9 ? 'aé' : pick < 0.95 ? 'a😀' : 'a\ud800';
  let s = '';
  for (let i = 0; i < Math.min(n, 300); i++) s += alphabet[randInt(r, 0, alphabet.length - 1)];
  return n > 300 ? s + 'x'.repeat(n - 300) : s;
}

function randomValue(r: () => number, depth: number): unknown {
  const k = randInt(r, 0, depth > 2 ? 5 : 8);
  switch (k) {
    case 0:
      return NUMBERS[randInt(r, 0, NUMBERS.length - 1)];
    case 1:
      return randInt(r, -1e6, 1e6);
    case 2:
      return randomString(r);
    case 3:
      return [null, undefined, true, false][randInt(r, 0, 3)];
    case 4:
      return r() * 1e3;
    case 5:
      return r() < 0.9 ? randInt(r, 0, 1e9) : new Uint8Array([1, 2, 3]);
    case 6:
      return Array.from({ length: [0, 1, 3, 15, 16, 17][randInt(r, 0, 5)]! }, () => randomValue(r, depth + 1));
    default:
      return randomMap(r, depth + 1);
  }
}

function randomMap(r: () => number, depth: number): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  const n = [0, 1, 2, 4, 15, 16, 17][randInt(r, 0, 6)]!;
  for (let i = 0; i < n; i++) m[r() < 0.97 ? `k${randInt(r, 0, 40)}` : 'ké'] = randomValue(r, depth);
  return m;
}

t.test('writes the bytes @msgpack/msgpack writes, for any header', (t) => {
  const r = rng(5);
  for (let i = 0; i < 2000; i++) {
    const fields = randomMap(r, 0);
    const value = r() < 0.5 ? undefined : randomValue(r, 1);
    const key = value === undefined && r() < 0.5 ? undefined : r() < 0.3 ? 'k1' : 'tensors';
    const want = referenceBytes(key === undefined ? fields : { ...fields, [key]: value });
    const got = directBytes(fields, key, value);
    if (!got.equals(want)) {
      t.fail(`header ${i}: ${got.toString('hex').slice(0, 80)} != ${want.toString('hex').slice(0, 80)}`);
      return t.end();
    }
  }
  t.pass('2000 random headers, byte for byte');
  t.same(directBytes({ n: new Date(0) }), referenceBytes({ n: new Date(0) }), 'a Date goes to the general codec');
  t.end();
});

t.test('reads what @msgpack/msgpack reads, and refuses what it refuses, with its error', (t) => {
  const r = rng(6);
  const same = (bytes: Buffer, what: string): boolean => {
    let want: unknown;
    let wantError: string | undefined;
    try {
      want = reference.decode(bytes);
    } catch (e) {
      wantError = (e as Error).message;
    }
    try {
      const got = decodeHeader(Buffer.concat([Buffer.from([0xc1]), bytes, Buffer.from([0xc1])]), 1, bytes.length + 1);
      if (wantError !== undefined) return t.fail(`${what}: read ${JSON.stringify(got)}, reference refused: ${wantError}`);
      return isDeepStrictEqual(got, want) ? true : t.fail(`${what}: read ${JSON.stringify(got)?.slice(0, 80)}, reference ${JSON.stringify(want)?.slice(0, 80)}`);
    } catch (e) {
      return wantError === (e as Error).message ? true : t.fail(`${what}: ${(e as Error).message}, reference: ${wantError ?? 'read it'}`);
    }
  };
  for (let i = 0; i < 1000; i++) {
    const bytes = referenceBytes(randomMap(r, 0));
    if (!same(bytes, `map ${i}`)) return t.end();
    // Cut short, extended, or with a byte changed: the general codec decides, so the errors match.
    const cut = bytes.subarray(0, randInt(r, 0, bytes.length - 1));
    const extended = Buffer.concat([bytes, Buffer.from([randInt(r, 0, 255)])]);
    const changed = Buffer.from(bytes);
    changed[randInt(r, 0, changed.length - 1)] = randInt(r, 0, 255);
    if (!same(cut, `map ${i} cut`) || !same(extended, `map ${i} extended`) || !same(changed, `map ${i} changed`)) return t.end();
  }
  t.pass('1000 random headers, each also cut short, extended and changed');
  const odd: [string, Buffer][] = [
    ['__proto__ key', Buffer.from([0x81, 0xa9, ...Buffer.from('__proto__'), 0x01])],
    ['integer key', Buffer.from([0x81, 0x01, 0x02])],
    ['uint64', Buffer.from([0xcf, 0, 0, 0, 1, 0, 0, 0, 0])],
    ['int64', Buffer.from([0xd3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])],
    ['bin', Buffer.from([0xc4, 0x02, 0x01, 0x02])],
    ['ext', Buffer.from([0xd4, 0x01, 0x00])],
    ['reserved byte', Buffer.from([0xc1])],
    ['array over the limit', Buffer.from([0xdd, 0x00, 0x01, 0x00, 0x01])],
    ['deep nesting', Buffer.from([...Array<number>(100).fill(0x91), 0x00])],
    ['empty', Buffer.alloc(0)],
  ];
  for (const [what, bytes] of odd) if (same(bytes, what)) t.pass(what);
  t.end();
});

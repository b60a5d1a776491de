/**
 * Seeded fuzzing of the IDX parsers: thousands of random mutations (byte
 * flips, truncations, extensions, header edits) of small files cut from real
 * MNIST. Every outcome must be either a consistent parse or an IdxError, never
 * a RangeError/TypeError from reading past the end or allocating by a corrupt
 * size, and every call must return quickly.
 */
import { describe, expect, it } from 'vitest';
import { IdxError, parseIdx, parseIdxImages, parseIdxLabels } from '../../src/data/idx.ts';
import { createRng, type Rng } from '../../src/util/random.ts';
import { encodeIdx, realMnistFile } from './idx-builders.ts';

const SAMPLES = 64;
const MUTATIONS = 3000;
/** Header values that have broken parsers before: zero, sign bit, all ones, near-overflow. */
const NASTY_U32 = [0, 1, 2, 27, 28, 64, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x10000, 0x01000000];

function mutate(original: Uint8Array, rng: Rng): Uint8Array {
  let bytes = original.slice();
  const rounds = 1 + rng.int(3);
  for (let r = 0; r < rounds; r++) {
    const kind = rng.int(6);
    if (kind === 0 && bytes.length > 0) {
      // Flip random bits anywhere, biased towards the header where they matter most.
      const flips = 1 + rng.int(4);
      for (let f = 0; f < flips; f++) {
        const at = rng.next() < 0.6 ? rng.int(Math.min(bytes.length, 24)) : rng.int(bytes.length);
        bytes[at] ^= 1 << rng.int(8);
      }
    } else if (kind === 1) {
      // Truncate, often to within the header.
      const keep = rng.next() < 0.5 ? rng.int(Math.min(bytes.length + 1, 24)) : rng.int(bytes.length + 1);
      bytes = bytes.slice(0, keep);
    } else if (kind === 2) {
      // Extend with random bytes.
      const extra = new Uint8Array(1 + rng.int(100));
      for (let i = 0; i < extra.length; i++) extra[i] = rng.int(256);
      const grown = new Uint8Array(bytes.length + extra.length);
      grown.set(bytes);
      grown.set(extra, bytes.length);
      bytes = grown;
    } else if (kind === 3 && bytes.length >= 4) {
      // Header byte edit: type or dimension count.
      bytes[2 + rng.int(2)] = rng.next() < 0.5 ? rng.int(256) : [0, 1, 2, 3, 4, 8, 9, 13, 255][rng.int(9)];
    } else if (kind === 4 && bytes.length >= 8) {
      // Overwrite one dimension (possibly in the data region) with a random or nasty u32.
      const slots = Math.max(1, Math.min(8, Math.floor((bytes.length - 4) / 4)));
      const at = 4 + 4 * rng.int(slots);
      const value = rng.next() < 0.5 ? NASTY_U32[rng.int(NASTY_U32.length)] : rng.nextU32();
      if (at + 4 <= bytes.length) new DataView(bytes.buffer).setUint32(at, value, false);
    } else if (kind === 5 && bytes.length > 0) {
      // Random byte values (not just bit flips), e.g. labels pushed out of range.
      const at = rng.int(bytes.length);
      bytes[at] = rng.int(256);
    }
  }
  return bytes;
}

/** Parses with every entry point; any non-IdxError is recorded as a failure. */
function checkOne(bytes: Uint8Array, failures: string[], label: string, problemsSeen: Set<string>): void {
  const attempts: Array<[string, () => void]> = [
    [
      'parseIdx',
      () => {
        const { dims, data } = parseIdx(bytes, label);
        // A successful parse must be internally consistent and a view of the input.
        if (data.length !== dims.reduce((a, b) => a * b, 1)) failures.push(`${label}: data length ${data.length} != prod(${dims})`);
        if (data.buffer !== bytes.buffer) failures.push(`${label}: data is a copy, not a view`);
      },
    ],
    [
      'parseIdxImages',
      () => {
        const { count, rows, cols, pixels } = parseIdxImages(bytes, label);
        if (pixels.length !== count * rows * cols) failures.push(`${label}: pixels ${pixels.length} != ${count}*${rows}*${cols}`);
      },
    ],
    [
      'parseIdxLabels',
      () => {
        const { count, labels } = parseIdxLabels(bytes, label);
        if (labels.length !== count) failures.push(`${label}: labels ${labels.length} != count ${count}`);
        if (labels.some((value) => value > 9)) failures.push(`${label}: a label > 9 was accepted`);
      },
    ],
  ];
  for (const [entry, attempt] of attempts) {
    try {
      attempt();
    } catch (error) {
      if (!(error instanceof IdxError)) {
        failures.push(`${label} ${entry}: threw ${(error as Error)?.name}: ${(error as Error)?.message}`);
      } else {
        problemsSeen.add(error.problem);
        if (!error.message.includes(`"${label}"`)) failures.push(`${label} ${entry}: message does not name the file`);
        // Garbage numbers in a message mean a check ran on bytes that were not there.
        if (/NaN|undefined|Infinity|\s-\d/.test(error.message)) failures.push(`${label} ${entry}: nonsense in message: ${error.message}`);
      }
    }
  }
}

describe('IDX parser fuzzing', () => {
  const images = realMnistFile('train-images-idx3-ubyte');
  const labels = realMnistFile('train-labels-idx1-ubyte');
  const seeds: Array<[string, Uint8Array]> = [
    ['first 64 train images', encodeIdx([SAMPLES, 28, 28], images.subarray(16, 16 + SAMPLES * 784))],
    ['first 64 train labels', encodeIdx([SAMPLES], labels.subarray(8, 8 + SAMPLES))],
  ];

  for (const [name, original] of seeds) {
    it(`${name}: ${MUTATIONS} mutations only ever throw IdxError, quickly`, () => {
      // The unmutated file must parse, or the fuzzing below proves nothing.
      expect(parseIdx(original, name).data.length).toBe(original.length - (original[3] === 3 ? 16 : 8));
      const rng = createRng(name.length * 7919 + 1);
      const failures: string[] = [];
      let parsedOk = 0;
      const problemsSeen = new Set<string>();
      let slowestMs = 0;
      const started = performance.now();
      for (let m = 0; m < MUTATIONS; m++) {
        const mutated = mutate(original, rng);
        const label = `mutant-${m}`;
        const t0 = performance.now();
        checkOne(mutated, failures, label, problemsSeen);
        slowestMs = Math.max(slowestMs, performance.now() - t0);
        try {
          parseIdx(mutated, label);
          parsedOk++;
        } catch {
          // Checked in checkOne.
        }
      }
      const totalMs = performance.now() - started;
      expect(failures.slice(0, 10)).toEqual([]);
      // Some mutants (e.g. pixel flips in the data) stay valid; most must be rejected.
      expect(parsedOk).toBeGreaterThan(0);
      expect(parsedOk).toBeLessThan(MUTATIONS);
      // The mutations must reach the parser's checks broadly, not one error path over and over.
      for (const problem of ['short-header', 'bad-magic', 'unsupported-type', 'bad-dimension-count', 'truncated', 'trailing-bytes', 'wrong-kind']) {
        expect(problemsSeen, `no mutant hit "${problem}"; saw ${[...problemsSeen]}`).toContain(problem);
      }
      // Each call is O(header) or one pass over ~50 KB (microseconds); the margin absorbs a GC pause.
      expect(slowestMs).toBeLessThan(200);
      expect(totalMs).toBeLessThan(5000);
    });
  }
});

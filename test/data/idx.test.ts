/**
 * The IDX parser on hand-made files: valid ones parse to zero-copy views, and
 * each kind of broken file gives an IdxError whose message names the file,
 * the problem and the fix, without ever allocating by a declared size.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { IdxError, parseIdx, parseIdxImages, parseIdxLabels, type IdxProblem } from '../../src/data/idx.ts';
import { concatBytes, encodeIdx } from './idx-builders.ts';

const FILE = 'tiny-images-idx3-ubyte';
/** Two 3x4 images, pixel value = its position. */
const tinyImages = (): Uint8Array<ArrayBuffer> => encodeIdx([2, 3, 4], Array.from({ length: 24 }, (_, i) => i * 10));
const tinyLabels = (): Uint8Array<ArrayBuffer> => encodeIdx([5], [3, 1, 4, 1, 5]);

function idxErrorOf(parse: () => unknown): IdxError {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(IdxError);
    return error as IdxError;
  }
  throw new Error('expected an IdxError, but parsing succeeded');
}

describe('parseIdx on valid files', () => {
  it('reads header and returns a zero-copy view of the data', () => {
    const bytes = tinyImages();
    const parsed = parseIdx(bytes, FILE);
    expect(parsed.dataType).toBe('u8');
    expect(parsed.dims).toEqual([2, 3, 4]);
    expect(Array.from(parsed.data)).toEqual(Array.from({ length: 24 }, (_, i) => i * 10));
    expect(parsed.data.buffer).toBe(bytes.buffer);
    expect(parsed.data.byteOffset).toBe(16);
  });

  it('respects the byteOffset of a view into a larger buffer', () => {
    const file = tinyLabels();
    const padded = concatBytes(new Uint8Array([0xff, 0xee, 0xdd]), file, new Uint8Array([0xcc]));
    const view = padded.subarray(3, 3 + file.length);
    const { count, labels } = parseIdxLabels(view, 'labels-in-a-view');
    expect(count).toBe(5);
    expect(Array.from(labels)).toEqual([3, 1, 4, 1, 5]);
    expect(labels.byteOffset).toBe(3 + 8);
  });

  it('parseIdxImages gives count, rows, cols and pixels', () => {
    const images = parseIdxImages(tinyImages(), FILE);
    expect([images.count, images.rows, images.cols]).toEqual([2, 3, 4]);
    expect(images.pixels.length).toBe(24);
    expect(images.pixels[23]).toBe(230);
  });

  it('accepts a file with zero samples', () => {
    expect(parseIdxImages(encodeIdx([0, 28, 28], []), FILE).count).toBe(0);
    expect(parseIdxLabels(encodeIdx([0], []), 'empty-labels').count).toBe(0);
  });
});

describe('parseIdx on broken files', () => {
  const valid = tinyImages();
  const withHeaderByte = (index: number, value: number): Uint8Array => {
    const copy = valid.slice();
    copy[index] = value;
    return copy;
  };
  const cases: Array<{ what: string; bytes: Uint8Array; problem: IdxProblem; message: RegExp[] }> = [
    { what: 'an empty file', bytes: new Uint8Array(0), problem: 'empty', message: [/empty \(0 bytes\)/, /re-download/i] },
    { what: 'a file shorter than the magic', bytes: new Uint8Array([0, 0, 8]), problem: 'short-header', message: [/3 bytes/, /4-byte IDX magic/] },
    {
      what: 'a header shorter than its declared dimensions',
      bytes: valid.subarray(0, 10),
      problem: 'short-header',
      message: [/declares 3 dimensions/, /needs 16 bytes/, /only 10/],
    },
    {
      what: 'a wrong magic number',
      bytes: new TextEncoder().encode('PK\x03\x04 a zip file, not IDX at all'),
      problem: 'bad-magic',
      message: [/expected 2049 .*labels.* or 2051 .*images/, /found 1347093252 \(0x504B0304\)/],
    },
    {
      what: 'a gzipped file',
      bytes: gzipSync(valid),
      problem: 'gzipped',
      message: [/gzip/, /decompress it first/i],
    },
    {
      what: 'an HTML error page',
      bytes: new TextEncoder().encode('<!DOCTYPE html><html><body>404 Not Found</body></html>'),
      problem: 'bad-magic',
      message: [/expected 2049/, /HTML/],
    },
    {
      what: 'a little-endian header',
      bytes: new Uint8Array([3, 8, 0, 0, 1, 0, 0, 0]),
      problem: 'bad-magic',
      message: [/found 50855936/, /byte-swapped/],
    },
    { what: 'float32 data', bytes: withHeaderByte(2, 0x0d), problem: 'unsupported-type', message: [/0x0D \(float32\)/, /0x08 \(unsigned byte\)/] },
    { what: 'an unknown data type', bytes: withHeaderByte(2, 0x42), problem: 'unsupported-type', message: [/0x42, which is not an IDX type/] },
    { what: 'zero dimensions', bytes: withHeaderByte(3, 0), problem: 'bad-dimension-count', message: [/declares 0 dimensions/, /1 for labels, 3 for images/] },
    { what: '200 dimensions', bytes: withHeaderByte(3, 200), problem: 'bad-dimension-count', message: [/declares 200 dimensions/] },
    {
      what: 'truncated data',
      bytes: valid.subarray(0, valid.length - 5),
      problem: 'truncated',
      message: [/expected 24 bytes/, /found 19/, /2 x 3 x 4/, /re-download/],
    },
    {
      what: 'trailing garbage',
      bytes: concatBytes(valid, new Uint8Array([1, 2, 3])),
      problem: 'trailing-bytes',
      message: [/3 extra bytes after the declared data/, /found 27/],
    },
    {
      what: 'dimensions whose product overflows',
      bytes: encodeIdx([2 ** 31, 2 ** 31], [1, 2, 3]),
      problem: 'size-overflow',
      message: [/2147483648 x 2147483648 multiply to 4611686018427387904 bytes/, /header is corrupt/],
    },
    {
      what: 'dimensions far larger than the file',
      bytes: encodeIdx([60000, 28000, 28000], [1, 2, 3]),
      problem: 'truncated',
      message: [/expected 47040000000000 bytes/, /found 3/],
    },
  ];

  for (const { what, bytes, problem, message } of cases) {
    it(`rejects ${what} as "${problem}", naming the file`, () => {
      const error = idxErrorOf(() => parseIdx(bytes, FILE));
      expect(error.problem).toBe(problem);
      expect(error.fileName).toBe(FILE);
      expect(error.name).toBe('IdxError');
      expect(error.message).toContain(`"${FILE}"`);
      for (const pattern of message) expect(error.message).toMatch(pattern);
    });
  }

  it('rejects huge declared sizes fast and without allocating', () => {
    const hostile = [
      encodeIdx([2 ** 31, 2 ** 31], []),
      encodeIdx([0xffffffff, 0xffffffff, 0xffffffff], [7]),
      encodeIdx([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], []),
      encodeIdx([0xffffffff], [1, 2]),
      encodeIdx([65536, 65536, 4], []), // 16 GiB: beyond what a typed array may hold
      encodeIdx([2048, 1024, 1024], [1]), // 2 GiB: an allocation would succeed, and show in arrayBuffers
    ];
    const arrayBuffersBefore = process.memoryUsage().arrayBuffers;
    const started = performance.now();
    for (const bytes of hostile) {
      for (const parse of [parseIdx, parseIdxImages, parseIdxLabels]) {
        const error = idxErrorOf(() => parse(bytes, 'hostile'));
        expect(['size-overflow', 'truncated']).toContain(error.problem);
      }
    }
    const elapsedMs = performance.now() - started;
    // 18 header-sized parses: microseconds each; the margin only absorbs a GC pause on a loaded machine.
    expect(elapsedMs).toBeLessThan(200);
    expect(process.memoryUsage().arrayBuffers - arrayBuffersBefore).toBeLessThan(1 << 20);
  });
});

describe('parseIdxImages / parseIdxLabels', () => {
  it('rejects a labels file passed as images, and the reverse', () => {
    const asImages = idxErrorOf(() => parseIdxImages(tinyLabels(), 'train-labels-idx1-ubyte'));
    expect(asImages.problem).toBe('wrong-kind');
    expect(asImages.message).toMatch(/"train-labels-idx1-ubyte".*expected an images file \(magic 2051.*found magic 2049, a labels file/);
    expect(asImages.message).toMatch(/swapped/);

    const asLabels = idxErrorOf(() => parseIdxLabels(tinyImages(), 'train-images-idx3-ubyte'));
    expect(asLabels.problem).toBe('wrong-kind');
    expect(asLabels.message).toMatch(/expected a labels file \(magic 2049.*found magic 2051, an images file/);
  });

  it('rejects a 2-dimensional file as either kind', () => {
    const matrix = encodeIdx([2, 2], [1, 2, 3, 4]);
    expect(idxErrorOf(() => parseIdxImages(matrix, 'm')).message).toMatch(/found magic 2050, a 2-dimensional array/);
    expect(idxErrorOf(() => parseIdxLabels(matrix, 'm')).problem).toBe('wrong-kind');
  });

  it('rejects images with zero rows or columns', () => {
    const error = idxErrorOf(() => parseIdxImages(encodeIdx([5, 0, 28], []), FILE));
    expect(error.problem).toBe('bad-dimensions');
    expect(error.message).toMatch(/0 x 28 pixels/);
  });

  it('rejects labels outside 0-9, naming the first bad index and value', () => {
    const error = idxErrorOf(() => parseIdxLabels(encodeIdx([6], [0, 9, 3, 10, 200, 1]), 'bad-labels'));
    expect(error.problem).toBe('label-out-of-range');
    expect(error.fileName).toBe('bad-labels');
    expect(error.message).toMatch(/label at index 3 is 10, outside 0\.\.9 \(10 classes\)/);
  });

  it('takes the class count as a parameter', () => {
    const labels = encodeIdx([4], [0, 2, 1, 5]);
    expect(idxErrorOf(() => parseIdxLabels(labels, 'three-classes', 3)).message).toMatch(/index 3 is 5, outside 0\.\.2 \(3 classes\)/);
    expect(Array.from(parseIdxLabels(labels, 'six-classes', 6).labels)).toEqual([0, 2, 1, 5]);
    expect(Array.from(parseIdxLabels(encodeIdx([2], [9, 10]), 'eleven', 11).labels)).toEqual([9, 10]);
    expect(() => parseIdxLabels(labels, 'x', 0)).toThrow(/classCount must be an integer in 1\.\.256/);
  });
});

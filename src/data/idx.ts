/**
 * Parser for IDX files, the format MNIST ships in, working on bytes already in
 * memory (Node's fs or the browser's fetch), so this file uses no Node APIs.
 *
 * Layout (all integers big-endian):
 *   byte 0-1   zero
 *   byte 2     data type: 0x08 unsigned byte (the only type read here),
 *              0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64
 *   byte 3     number of dimensions D
 *   4 * D      each dimension as a u32
 *   then       the data, row-major, exactly prod(dims) elements
 * Bytes 0-3 read as one u32 give the "magic number": 2049 (0x0801) for a
 * label file (1 dimension), 2051 (0x0803) for an image file (3 dimensions:
 * count, rows, cols).
 *
 * The parser never allocates by a size the header declares: the declared size
 * is computed exactly (BigInt) and compared with the bytes actually present
 * before anything is touched, so a corrupt header costs nothing but an error.
 * The returned data is a zero-copy view into the input bytes.
 */

/** What went wrong, as a stable code tests and callers can switch on. */
export type IdxProblem =
  | 'empty'
  | 'short-header'
  | 'gzipped'
  | 'bad-magic'
  | 'unsupported-type'
  | 'bad-dimension-count'
  | 'size-overflow'
  | 'truncated'
  | 'trailing-bytes'
  | 'wrong-kind'
  | 'bad-dimensions'
  | 'label-out-of-range';

export class IdxError extends Error {
  override name = 'IdxError';
  /** The file (path, URL or name) the caller gave, repeated in the message. */
  readonly fileName: string;
  readonly problem: IdxProblem;

  constructor(fileName: string, problem: IdxProblem, message: string) {
    super(`IDX file "${fileName}": ${message}`);
    this.fileName = fileName;
    this.problem = problem;
  }
}

export interface IdxArray {
  dataType: 'u8';
  dims: number[];
  /** prod(dims) bytes, row-major; a view into the parsed bytes, not a copy. */
  data: Uint8Array;
}

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count * rows * cols bytes, image-major then row-major; a view, not a copy. */
  pixels: Uint8Array;
}

export interface IdxLabels {
  count: number;
  /** One class index per sample; a view, not a copy. */
  labels: Uint8Array;
}

export const IDX_LABELS_MAGIC = 2049;
export const IDX_IMAGES_MAGIC = 2051;
const UNSIGNED_BYTE_TYPE = 0x08;
/** Real IDX files have 1 to 4 dimensions; allowing a few more costs nothing. */
const MAX_DIMENSIONS = 8;

const OTHER_IDX_TYPES: Record<number, string> = {
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

const hex = (value: number, digits: number): string =>
  '0x' + value.toString(16).toUpperCase().padStart(digits, '0');

function readU32BigEndian(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

/** A guess at what the bytes really are, for the wrong-magic message. */
function describeForeignBytes(bytes: Uint8Array): string {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return '';
  const head = String.fromCharCode(...bytes.subarray(0, Math.min(bytes.length, 64)));
  if (/^\s*</.test(head)) {
    return ' The file starts with "<": it looks like an HTML/XML page (often a server error or login page served in place of the file); check the URL.';
  }
  if (head.startsWith('version https://git-lfs')) {
    return ' It is a Git LFS pointer, not the data; run "git lfs pull".';
  }
  if (bytes.length >= 4 && bytes[2] === 0 && bytes[3] === 0 && bytes[0] !== 0) {
    return ' The magic looks byte-swapped: the file was probably written little-endian; IDX is big-endian.';
  }
  return ' It is not an IDX file; check that the right file was given.';
}

/**
 * Parses an IDX file of unsigned bytes. `fileName` only labels errors.
 * Throws IdxError for anything malformed, never RangeError/TypeError.
 */
export function parseIdx(bytes: Uint8Array, fileName: string): IdxArray {
  if (bytes.length === 0) {
    throw new IdxError(fileName, 'empty', 'the file is empty (0 bytes). Re-download it, or check the path/URL points at the data file.');
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new IdxError(
      fileName,
      'gzipped',
      'it starts with 0x1F 0x8B, the gzip signature: the file is still compressed. Decompress it first (e.g. "gunzip file.gz") and load the result.',
    );
  }
  if (bytes.length < 4) {
    throw new IdxError(
      fileName,
      'short-header',
      `the file is ${bytes.length} bytes, shorter than the 4-byte IDX magic number. It is truncated; re-download it.`,
    );
  }
  const magic = readU32BigEndian(bytes, 0);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new IdxError(
      fileName,
      'bad-magic',
      `wrong magic number: expected ${IDX_LABELS_MAGIC} (${hex(IDX_LABELS_MAGIC, 8)}, labels) or ${IDX_IMAGES_MAGIC} ` +
        `(${hex(IDX_IMAGES_MAGIC, 8)}, images), found ${magic} (${hex(magic, 8)}); the first two bytes of an IDX file are zero.` +
        describeForeignBytes(bytes),
    );
  }
  const dataType = bytes[2];
  if (dataType !== UNSIGNED_BYTE_TYPE) {
    const known = OTHER_IDX_TYPES[dataType];
    const what = known ? `${hex(dataType, 2)} (${known})` : `${hex(dataType, 2)}, which is not an IDX type at all`;
    throw new IdxError(
      fileName,
      'unsupported-type',
      `unsupported data type ${what} (magic ${magic}). Only ${hex(UNSIGNED_BYTE_TYPE, 2)} (unsigned byte), as in MNIST, is read; convert the file to unsigned bytes.`,
    );
  }
  const dimensionCount = bytes[3];
  if (dimensionCount === 0 || dimensionCount > MAX_DIMENSIONS) {
    throw new IdxError(
      fileName,
      'bad-dimension-count',
      `the header declares ${dimensionCount} dimensions (magic ${magic}); expected 1 to ${MAX_DIMENSIONS} ` +
        `(1 for labels, 3 for images). The header is corrupt; re-download the file.`,
    );
  }
  const headerLength = 4 + 4 * dimensionCount;
  if (bytes.length < headerLength) {
    throw new IdxError(
      fileName,
      'short-header',
      `the header declares ${dimensionCount} dimensions, so it needs ${headerLength} bytes, but the file has only ${bytes.length}. ` +
        'The file is truncated; re-download it.',
    );
  }
  const dims: number[] = [];
  for (let d = 0; d < dimensionCount; d++) dims.push(readU32BigEndian(bytes, 4 + 4 * d));

  // Exact product: the dims are u32s, so a Number product could round, and a
  // product computed in a typed-array length would overflow silently.
  let declaredBytes = 1n;
  for (const dim of dims) declaredBytes *= BigInt(dim);
  const availableBytes = bytes.length - headerLength;
  const shape = dims.join(' x ');
  if (declaredBytes > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new IdxError(
      fileName,
      'size-overflow',
      `the declared dimensions ${shape} multiply to ${declaredBytes} bytes, more than any file or array can hold ` +
        `(the file has ${availableBytes} data bytes). The header is corrupt; re-download the file.`,
    );
  }
  const expectedBytes = Number(declaredBytes);
  if (expectedBytes > availableBytes) {
    throw new IdxError(
      fileName,
      'truncated',
      `truncated data: expected ${expectedBytes} bytes of data (dimensions ${shape}) after the ${headerLength}-byte header, found ${availableBytes}. ` +
        'The file is incomplete (or its header is corrupt); re-download it.',
    );
  }
  if (expectedBytes < availableBytes) {
    throw new IdxError(
      fileName,
      'trailing-bytes',
      `${availableBytes - expectedBytes} extra bytes after the declared data: dimensions ${shape} need ${expectedBytes} bytes ` +
        `after the ${headerLength}-byte header, found ${availableBytes}. The file may be two files joined or have a wrong header; re-download it.`,
    );
  }
  return { dataType: 'u8', dims, data: bytes.subarray(headerLength, headerLength + expectedBytes) };
}

function kindOf(dims: number[]): string {
  if (dims.length === 1) return `${IDX_LABELS_MAGIC}, a labels file`;
  if (dims.length === 3) return `${IDX_IMAGES_MAGIC}, an images file`;
  return `${(UNSIGNED_BYTE_TYPE << 8) | dims.length}, a ${dims.length}-dimensional array`;
}

/** Parses an IDX image file (magic 2051: count x rows x cols unsigned bytes). */
export function parseIdxImages(bytes: Uint8Array, fileName: string): IdxImages {
  const { dims, data } = parseIdx(bytes, fileName);
  if (dims.length !== 3) {
    throw new IdxError(
      fileName,
      'wrong-kind',
      `expected an images file (magic ${IDX_IMAGES_MAGIC}: count x rows x cols), found magic ${kindOf(dims)} with dimensions ${dims.join(' x ')}. ` +
        'Check which file was passed as images (images and labels may be swapped).',
    );
  }
  const [count, rows, cols] = dims;
  if (rows === 0 || cols === 0) {
    throw new IdxError(
      fileName,
      'bad-dimensions',
      `images of ${rows} x ${cols} pixels (count ${count}): an image needs at least one row and one column. The header is corrupt; re-download the file.`,
    );
  }
  return { count, rows, cols, pixels: data };
}

/**
 * Parses an IDX label file (magic 2049: one unsigned byte per sample) and
 * checks every label is a class index below `classCount`.
 */
export function parseIdxLabels(bytes: Uint8Array, fileName: string, classCount = 10): IdxLabels {
  if (!Number.isInteger(classCount) || classCount < 1 || classCount > 256) {
    // A caller's mistake, not the file's: hence not an IdxError.
    throw new RangeError(`classCount must be an integer in 1..256 (labels are bytes), got ${classCount}`);
  }
  const { dims, data } = parseIdx(bytes, fileName);
  if (dims.length !== 1) {
    throw new IdxError(
      fileName,
      'wrong-kind',
      `expected a labels file (magic ${IDX_LABELS_MAGIC}: one dimension), found magic ${kindOf(dims)} with dimensions ${dims.join(' x ')}. ` +
        'Check which file was passed as labels (images and labels may be swapped).',
    );
  }
  for (let i = 0; i < data.length; i++) {
    if (data[i] >= classCount) {
      throw new IdxError(
        fileName,
        'label-out-of-range',
        `label at index ${i} is ${data[i]}, outside 0..${classCount - 1} (${classCount} classes). ` +
          'The file is corrupt or not a labels file for this task; re-download it or set the class count.',
      );
    }
  }
  return { count: dims[0], labels: data };
}

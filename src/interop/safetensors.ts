/**
 * safetensors (https://github.com/huggingface/safetensors), written and read
 * by hand: the format is three parts and needs no library.
 *
 *   8 bytes   N, u64 little-endian: the header's length in bytes
 *   N bytes   UTF-8 JSON: { "__metadata__": { string: string },
 *               "<tensor>": { "dtype": "F32", "shape": [...], "data_offsets": [begin, end] }, ... }
 *             padded with spaces so the data starts 8-byte aligned
 *   rest      the tensors' bytes, little-endian; offsets are relative to
 *             the start of this part, and the tensors cover it exactly
 *
 * Tensors are named `<layer>.kernel` and `<layer>.bias` after the layers'
 * display names (conv2d_1.kernel, dense_3.bias, ...) and stored in this
 * engine's layout: conv kernels OIHW [out, in, kh, kw] (PyTorch's Conv2d
 * layout too), dense kernels [in, out] (Keras's; PyTorch's Linear stores the
 * transpose). `__metadata__` holds `format` ('lenet-gpu'), `layout`
 * (those words), `spec` (the ModelSpec as JSON) and `run_card` (the run card
 * as JSON), all strings as the format requires.
 *
 * Import checks the header against the model before returning anything:
 * every tensor the model needs is there with dtype F32 and the right shape,
 * none is extra, offsets are in bounds and the tensors tile the data.
 * Browser-safe.
 */
import { inferShapes, type ModelPlan } from '../model/infer.ts';
import { packedSize } from '../graph/param-packing.ts';
import { parameterLayout } from '../model/params.ts';
import type { ModelSpec } from '../model/spec.ts';
import type { RunCard } from '../engine/run-card.ts';
import { InteropError } from './errors.ts';
import { bytesToF32, f32ToBytes } from './layout.ts';

export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  /** Header entries in file order. */
  tensors: Map<string, SafetensorsEntry>;
  /** The data part (a view into the file's bytes). */
  data: Uint8Array;
}

const LAYOUT = 'engine layout: conv kernels OIHW [out, in, kh, kw], dense kernels [in, out] (y = x W + b), activations NCHW';

/** Encodes named F32 tensors (in the given order) and string metadata. */
export function encodeSafetensors(tensors: { name: string; shape: number[]; values: Float32Array }[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.values.length) throw new InteropError(`tensor ${t.name}: shape [${t.shape}] holds ${size} values but ${t.values.length} were given`);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + size * 4] };
    offset += size * 4;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(padded - json.length));
  const bytes = new Uint8Array(8 + json.length + offset);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors) {
    bytes.set(f32ToBytes(t.values), at);
    at += t.values.length * 4;
  }
  return bytes;
}

/** Parses and checks the container (not yet against a model). */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors file'): SafetensorsFile {
  const fail = (problem: string): never => {
    throw new InteropError(`${source}: ${problem}`);
  };
  if (bytes.length < 8) fail(`is ${bytes.length} bytes, too short for a safetensors file (truncated?)`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) fail(`declares a ${n}-byte header but only ${bytes.length - 8} bytes follow (truncated, or not a safetensors file)`);
  const headerEnd = 8 + Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, headerEnd)));
  } catch (error) {
    return fail(`has an unreadable JSON header (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return fail('has a header that is not a JSON object');
  const data = bytes.subarray(headerEnd);
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsEntry>();
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null) fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string (the format allows only strings)`);
        metadata[k] = v as string;
      }
      continue;
    }
    const e = value as Partial<SafetensorsEntry> | null;
    if (!e || typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) {
      fail(`tensor ${name} has no dtype, shape and data_offsets`);
    }
    const [begin, end] = e!.data_offsets!;
    if (!e!.shape!.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor ${name} has the shape ${JSON.stringify(e!.shape)}`);
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end < begin || end > data.length) {
      fail(`tensor ${name} has data_offsets [${begin}, ${end}] outside the ${data.length} data bytes (truncated?)`);
    }
    tensors.set(name, { dtype: e!.dtype!, shape: e!.shape!, data_offsets: [begin, end] });
  }
  // The tensors must tile the data exactly: no gaps, no overlaps, nothing after.
  const ranges = [...tensors.entries()].sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  let expected = 0;
  for (const [name, e] of ranges) {
    if (e.data_offsets[0] !== expected) fail(`tensor ${name} starts at byte ${e.data_offsets[0]} of the data, expected ${expected} (gap or overlap)`);
    expected = e.data_offsets[1];
  }
  if (expected !== data.length) fail(`the tensors cover ${expected} of the ${data.length} data bytes`);
  return { metadata, tensors, data };
}

/** `<layer>.<kernel|bias>` for every parameter tensor of the plan, with its shape, in packed order. */
function tensorNames(plan: ModelPlan): { name: string; shape: number[]; size: number }[] {
  return parameterLayout(plan).tensors.map((t) => ({ name: `${plan.layers[t.layer].name}.${t.name}`, shape: t.shape, size: t.size }));
}

/** Packed weights as safetensors, with the spec and run card in __metadata__. */
export function exportSafetensors(spec: ModelSpec, packed: Float32Array, runCard?: RunCard): Uint8Array {
  const plan = inferShapes(spec, 1);
  const names = tensorNames(plan);
  const total = packedSize(parameterLayout(plan));
  if (packed.length !== total) throw new InteropError(`the weights hold ${packed.length} values but ${plan.name} has ${total} parameters`);
  let at = 0;
  const tensors = names.map((t) => {
    const values = packed.subarray(at, at + t.size);
    at += t.size;
    return { name: t.name, shape: t.shape, values };
  });
  const metadata: Record<string, string> = { format: 'lenet-gpu', layout: LAYOUT, spec: JSON.stringify(spec) };
  if (runCard) metadata.run_card = JSON.stringify(runCard);
  return encodeSafetensors(tensors, metadata);
}

export interface SafetensorsImport {
  /** Packed weights in this engine's layout. */
  weights: Float32Array;
  /** The spec in __metadata__.spec, if any. */
  spec?: ModelSpec;
  runCard?: unknown;
  metadata: Record<string, string>;
}

/** The spec a file carries in its metadata (to build the model before importing its weights). */
export function safetensorsSpec(file: SafetensorsFile, source = 'safetensors file'): ModelSpec | undefined {
  if (file.metadata.spec === undefined) return undefined;
  try {
    return JSON.parse(file.metadata.spec) as ModelSpec;
  } catch {
    throw new InteropError(`${source}: __metadata__.spec is not valid JSON`);
  }
}

/**
 * Reads the packed weights of `spec` out of a safetensors file, checking every
 * tensor's presence, dtype and shape against the model first.
 */
export function importSafetensors(spec: ModelSpec, bytes: Uint8Array, source = 'safetensors file'): SafetensorsImport {
  const file = decodeSafetensors(bytes, source);
  const plan = inferShapes(spec, 1);
  const wanted = tensorNames(plan);
  const problems: string[] = [];
  for (const t of wanted) {
    const e = file.tensors.get(t.name);
    if (!e) problems.push(`${t.name} is missing`);
    else if (e.dtype !== 'F32') problems.push(`${t.name} is ${e.dtype}, not F32`);
    else if (e.shape.length !== t.shape.length || e.shape.some((d, i) => d !== t.shape[i])) problems.push(`${t.name} has shape [${e.shape}] but the model needs [${t.shape}]`);
  }
  const known = new Set(wanted.map((t) => t.name));
  const extra = [...file.tensors.keys()].filter((n) => !known.has(n));
  if (extra.length > 0) problems.push(`${extra.join(', ')} ${extra.length === 1 ? 'is' : 'are'} not a tensor of the model`);
  if (problems.length > 0) {
    throw new InteropError(
      `${source} does not fit ${plan.name} (${wanted.length} tensors, ${plan.paramCount} parameters): ${problems.join('; ')}. ` +
        'Build the model from the spec the file was saved with (its __metadata__.spec).',
    );
  }
  const weights = new Float32Array(packedSize(parameterLayout(plan)));
  let at = 0;
  for (const t of wanted) {
    const [begin, end] = file.tensors.get(t.name)!.data_offsets;
    weights.set(bytesToF32(file.data.subarray(begin, end)), at);
    at += t.size;
  }
  let runCard: unknown;
  if (file.metadata.run_card !== undefined) {
    try {
      runCard = JSON.parse(file.metadata.run_card);
    } catch {
      throw new InteropError(`${source}: __metadata__.run_card is not valid JSON`);
    }
  }
  return { weights, spec: safetensorsSpec(file, source), runCard, metadata: file.metadata };
}

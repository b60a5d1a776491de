/**
 * Checkpoints: weights, optimizer state and (optionally) where training
 * stands, in one self-checking binary file.
 *
 * Format (little-endian), version 2:
 *   0   8 bytes   magic "LENETGPU"
 *   8   u32       format version (2; version 1 files, without sections, load too)
 *   12  u32       header length H (bytes of UTF-8 JSON)
 *   16  H bytes   header JSON: { spec, optimizer, seed, epoch, parameterCount,
 *                 slots, stateBytes, sections, savedAt, runCard?, training? },
 *                 padded with spaces to a multiple of 4
 *   ..  f32 x P   parameters, packed (parameterLayout(plan) without gaps)
 *   ..  f32 x P   each optimizer slot (Adam: m then v; SGD: velocity), packed
 *   ..  stateBytes the optimizer's GPU state buffer (step counter, learning rate)
 *   ..  sections  named byte arrays, in header.sections order, each padded to 4
 *                 (a fit's state: its running totals, the best weights so far)
 *   end u32       CRC-32 of every byte before it
 * Loading checks magic, version, length, checksum, then that the spec and
 * optimizer match the model, all before writing anything to the GPU: a damaged
 * or mismatched checkpoint is refused whole, never half-applied.
 * `header.training` with its sections is a fit's state (fit-state.ts): a
 * checkpoint taken mid-epoch continues exactly where it was taken.
 */
import { readBytes, readF32 } from '../gpu/buffers.ts';
import { CheckpointError } from './errors.ts';
import { ModelBusyError } from './model-turns.ts';
import { alignParams, packedSize, packParams } from '../graph/param-packing.ts';
import type { ModelSpec } from '../model/spec.ts';
import { crc32 } from '../util/crc32.ts';
import { fitStateToCheckpoint, type FitState } from './fit-state.ts';
import type { Model } from './model.ts';
import type { ResolvedOptimizer } from './optimizer-state.ts';

const MAGIC = 'LENETGPU';
const VERSION = 2;
/** Versions this build reads. */
const READABLE = [1, 2];

export { CheckpointError };

export interface CheckpointHeader {
  spec: ModelSpec;
  optimizer: ResolvedOptimizer;
  seed: number;
  /** Epochs completed when saved; training resumes after it. */
  epoch: number;
  parameterCount: number;
  slots: number;
  stateBytes: number;
  /** Named byte arrays after the optimizer state (version 2; none in version 1). */
  sections?: { name: string; bytes: number }[];
  savedAt: string;
  runCard?: Record<string, unknown>;
  /** A fit's state, without its byte arrays (those are sections): see fit-state.ts. */
  training?: Record<string, unknown>;
}

export interface Checkpoint {
  header: CheckpointHeader;
  params: Float32Array;
  slots: Float32Array[];
  state: Uint8Array;
  sections: Record<string, Uint8Array>;
}

const padded = (n: number): number => Math.ceil(n / 4) * 4;

/** Specs compare by their JSON with keys sorted, so key order does not matter. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const sectionList = Object.entries(c.sections).map(([name, data]) => ({ name, bytes: data.length }));
  let headerText = JSON.stringify({ ...c.header, sections: sectionList });
  const headerBytes0 = new TextEncoder().encode(headerText);
  headerText += ' '.repeat((4 - (headerBytes0.length % 4)) % 4);
  const header = new TextEncoder().encode(headerText);
  const P = c.params.length;
  const sectionBytes = sectionList.reduce((sum, section) => sum + padded(section.bytes), 0);
  const total = 16 + header.length + 4 * P * (1 + c.slots.length) + c.state.length + sectionBytes + 4;
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, VERSION, true);
  view.setUint32(12, header.length, true);
  bytes.set(header, 16);
  let at = 16 + header.length;
  for (const array of [c.params, ...c.slots]) {
    if (array.length !== P) throw new CheckpointError(`optimizer slot holds ${array.length} values, parameters ${P}`);
    for (let i = 0; i < P; i++, at += 4) view.setFloat32(at, array[i], true);
  }
  bytes.set(c.state, at);
  at += c.state.length;
  for (const data of Object.values(c.sections)) {
    bytes.set(data, at);
    at += padded(data.length);
  }
  view.setUint32(at, crc32(bytes.subarray(0, at)), true);
  return bytes;
}

export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): Checkpoint {
  const fail = (problem: string): never => {
    throw new CheckpointError(`${source}: ${problem}`);
  };
  if (bytes.length < 20) fail(`is ${bytes.length} bytes, too short to be a checkpoint (truncated or not a lenet-gpu checkpoint)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) fail('is not a lenet-gpu checkpoint (magic bytes differ)');
  const version = view.getUint32(8, true);
  if (!READABLE.includes(version)) fail(`has format version ${version}; this build reads versions ${READABLE.join(' and ')} (a newer lenet-gpu wrote it: update this one)`);
  const stored = view.getUint32(bytes.length - 4, true);
  const actual = crc32(bytes.subarray(0, bytes.length - 4));
  if (stored !== actual) fail(`is damaged or truncated: checksum ${actual.toString(16)} does not match the stored ${stored.toString(16)}; use another copy`);
  const headerLength = view.getUint32(12, true);
  if (16 + headerLength > bytes.length - 4) fail('has a header longer than the file');
  let header: CheckpointHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLength))) as CheckpointHeader;
  } catch {
    return fail('has an unreadable header');
  }
  const P = header.parameterCount;
  const sectionList = header.sections ?? [];
  let at = 16 + headerLength;
  const expected = at + 4 * P * (1 + header.slots) + header.stateBytes + sectionList.reduce((sum, section) => sum + padded(section.bytes), 0) + 4;
  if (expected !== bytes.length) fail(`is ${bytes.length} bytes but its header describes ${expected}`);
  const readArray = (): Float32Array => {
    const out = new Float32Array(P);
    for (let i = 0; i < P; i++, at += 4) out[i] = view.getFloat32(at, true);
    return out;
  };
  const params = readArray();
  const slots = Array.from({ length: header.slots }, readArray);
  const state = bytes.slice(at, at + header.stateBytes);
  at += header.stateBytes;
  const sections: Record<string, Uint8Array> = {};
  for (const section of sectionList) {
    sections[section.name] = bytes.slice(at, at + section.bytes);
    at += padded(section.bytes);
  }
  return { header, params, slots, state, sections };
}

/**
 * Reads weights and optimizer state off the GPU into a checkpoint; with a
 * fit's state (History.endState, or the one afterEpoch hands over), the
 * checkpoint continues that fit exactly (fit's `resume` option).
 */
export async function captureCheckpoint(model: Model, epoch: number, runCard?: Record<string, unknown>, fitState?: FitState): Promise<Uint8Array> {
  const { device, graph, optimizer } = model;
  // One turn on the model, so a fit running meanwhile cannot step between the reads.
  const { params, slots, state } = await model.turns.run(async () => {
    model.assertUsable('captureCheckpoint');
    const weights = await model.getWeights();
    const slotValues: Float32Array[] = [];
    for (const slot of optimizer.slots) slotValues.push(packParams(graph.layout, await readF32(device, slot, graph.layout.total)));
    return { params: weights, slots: slotValues, state: new Uint8Array(await readBytes(device, optimizer.state)) };
  });
  const fit = fitState ? fitStateToCheckpoint(fitState) : undefined;
  return encodeCheckpoint({
    header: {
      spec: model.spec,
      optimizer: optimizer.config,
      seed: model.seed,
      epoch,
      parameterCount: params.length,
      slots: slots.length,
      stateBytes: state.length,
      savedAt: new Date().toISOString(),
      runCard,
      training: fit?.training,
    },
    params,
    slots,
    state,
    sections: fit?.sections ?? {},
  });
}

/** Validates everything first, then writes weights and optimizer state to the GPU. */
export function restoreCheckpoint(model: Model, bytes: Uint8Array, source = 'checkpoint'): CheckpointHeader {
  model.assertUsable(`restoring ${source}`);
  if (model.fitting) throw new ModelBusyError(`cannot restore ${source} while fit is running on this model: stop the fit (its control object) and await it first`);
  const c = decodeCheckpoint(bytes, source);
  if (canonicalJson(c.header.spec.layers) !== canonicalJson(model.spec.layers) || canonicalJson(c.header.spec.inputShape) !== canonicalJson(model.spec.inputShape)) {
    throw new CheckpointError(`${source} was saved from a different model (${c.header.spec.name ?? 'unnamed'}); build the model from the checkpoint's spec to load it`);
  }
  const { graph, optimizer, device } = model;
  const packedTotal = packedSize(graph.layout);
  if (c.params.length !== packedTotal) throw new CheckpointError(`${source} holds ${c.params.length} parameters, the model ${packedTotal}`);
  if (c.header.optimizer.kind !== optimizer.config.kind || c.slots.length !== optimizer.slots.length) {
    throw new CheckpointError(`${source} holds ${c.header.optimizer.kind} state but the model uses ${optimizer.config.kind}; create the model with the checkpoint's optimizer`);
  }
  if (c.state.length !== optimizer.state.size) throw new CheckpointError(`${source} optimizer state is ${c.state.length} bytes, the model's ${optimizer.state.size}`);
  device.queue.writeBuffer(graph.params, 0, alignParams(graph.layout, c.params));
  c.slots.forEach((slot, i) => device.queue.writeBuffer(optimizer.slots[i], 0, alignParams(graph.layout, slot)));
  device.queue.writeBuffer(optimizer.state, 0, c.state);
  return c.header;
}

/**
 * Optimizers (shaders/optimizer.wgsl): Adam and SGD (momentum, nesterov) with
 * Keras semantics, as one elementwise pass over the flat parameter buffer.
 *
 * The GPU holds the step counter and the learning rate in a 16-byte `state`
 * buffer ({step u32, learningRate f32, alpha f32, reserved u32}), so bias
 * correction needs no upload per step: adamUpdate/sgdUpdate return
 * [optimizer_begin_step, <rule>_update (vec4 body), <rule>_update_tail (the
 * count % 4 last parameters)], the first and last only when there is
 * something for them to do.
 *
 * The learning rate is read from `state`, NOT from hp: hp.learningRate only
 * seeds it when the caller passes it to createOptimizerState, and a schedule
 * changes it with writeLearningRate (one queue write, never per step). The
 * other hyperparameters are in a uniform written once at build time.
 */
import { ShapeError } from '../geometry.ts';
import { createBufferFrom } from '../gpu/buffers.ts';
import type { AdamHyper, SgdHyper } from '../reference/optim.ts';
import { grid1d, makeDispatch, type BufferResource, type Dispatch, type KernelCache, type ShaderSource, requireBytes } from './kernel.ts';
import code from '../../shaders/optimizer.wgsl?raw';

export type { AdamHyper, SgdHyper };

const shader: ShaderSource = { name: 'optimizer.wgsl', code };
const WORKGROUP_SIZE = 256;

/** Bytes of the state buffer: step u32, learningRate f32, alpha f32, reserved u32. */
export const OPTIMIZER_STATE_BYTES = 16;
const LEARNING_RATE_OFFSET = 4;

export interface DecodedOptimizerState {
  /** Updates begun so far (t of the last update; 0 before the first). */
  step: number;
  learningRate: number;
  /** The last update's step size: Adam's bias-corrected alpha_t. */
  alpha: number;
}

/**
 * A state buffer whose next update is step initialStep + 1 (pass the steps
 * already taken to resume), with the given learning rate.
 */
export function createOptimizerState(device: GPUDevice, initialStep = 0, learningRate: number): GPUBuffer {
  if (!Number.isInteger(initialStep) || initialStep < 0 || initialStep > 0xffffffff) {
    throw new RangeError(`initialStep must be a u32, got ${initialStep}`);
  }
  checkLearningRate(learningRate);
  const bytes = new ArrayBuffer(OPTIMIZER_STATE_BYTES);
  const view = new DataView(bytes);
  view.setUint32(0, initialStep, true);
  view.setFloat32(LEARNING_RATE_OFFSET, learningRate, true);
  return createBufferFrom(device, new Uint8Array(bytes), undefined, 'optimizer state');
}

/** Changes the learning rate of the next updates: one queue write, for schedules. */
export function writeLearningRate(device: GPUDevice, state: GPUBuffer, learningRate: number): void {
  checkLearningRate(learningRate);
  device.queue.writeBuffer(state, LEARNING_RATE_OFFSET, new Float32Array([learningRate]));
}

/** Decodes the state buffer's bytes (for tests, checkpoints and logs). */
export function decodeOptimizerState(bytes: ArrayBuffer): DecodedOptimizerState {
  const view = new DataView(bytes);
  return { step: view.getUint32(0, true), learningRate: view.getFloat32(4, true), alpha: view.getFloat32(8, true) };
}

function checkLearningRate(learningRate: number): void {
  if (!Number.isFinite(learningRate) || learningRate < 0) throw new RangeError(`learning rate must be a finite number >= 0, got ${learningRate}`);
}

function checkBeta(name: string, beta: number): void {
  if (!(beta >= 0 && beta < 1)) throw new RangeError(`${name} must be in [0, 1), got ${beta}`);
}

/** -ln(beta) in float64, capped: beyond 100 every beta^t is 0 in f32. */
const negLog = (beta: number): number => Math.min(-Math.log(beta), 100);

/** The uniform every entry point of optimizer.wgsl reads (each uses its own members). */
function optimizerUniforms(count: number, betas: { beta1: number; beta2: number; epsilon: number; momentum: number; nesterov: boolean }) {
  return {
    count,
    beta1: betas.beta1,
    beta2: betas.beta2,
    one_minus_beta1: 1 - betas.beta1,
    one_minus_beta2: 1 - betas.beta2,
    neg_log_beta1: negLog(betas.beta1),
    neg_log_beta2: negLog(betas.beta2),
    epsilon: betas.epsilon,
    momentum: betas.momentum,
    nesterov: betas.nesterov ? 1 : 0,
  };
}

function checkFlatBuffers(label: string, count: number, buffers: Record<string, BufferResource>): void {
  if (!Number.isInteger(count) || count < 1) throw new ShapeError(`${label}: count must be a positive integer, got ${count}`);
  const needs = Object.entries(buffers).map(([name, r]): [string, [BufferResource, number]] => [name, [r, name === 'state' ? OPTIMIZER_STATE_BYTES : count * 4]]);
  requireBytes(label, Object.fromEntries(needs));
}

/** The same flat buffers as the vec4 body sees them (whole quads) and as the scalar tail does. */
function bodyAndTail(names: Record<string, BufferResource>): { body: Record<string, BufferResource>; tail: Record<string, BufferResource> } {
  const body: Record<string, BufferResource> = {};
  for (const [name, r] of Object.entries(names)) body[`${name}4`] = r;
  return { body, tail: { ...names } };
}

interface UpdatePlan {
  label: string;
  count: number;
  uniforms: Record<string, number>;
  entry: 'adam_update' | 'sgd_update';
  state: BufferResource;
  /** The flat buffers by WGSL name (params, grads, m, v / velocity). */
  flat: Record<string, BufferResource>;
}

/** begin_step, then the vec4 body over count/4 quads, then the scalar tail if count % 4 != 0. */
async function buildUpdate(cache: KernelCache, plan: UpdatePlan): Promise<Dispatch[]> {
  const { device } = cache;
  const { count, uniforms, label } = plan;
  const { body, tail } = bodyAndTail(plan.flat);
  const dispatches: Dispatch[] = [];
  const begin = await cache.get(shader, 'optimizer_begin_step');
  dispatches.push(makeDispatch(device, begin, { uniforms, buffers: { state: plan.state }, workgroups: 1, label: `${label} begin_step` }));
  const quads = Math.floor(count / 4);
  if (quads > 0) {
    const kernel = await cache.get(shader, plan.entry, { WORKGROUP_SIZE });
    dispatches.push(
      makeDispatch(device, kernel, { uniforms, buffers: { ...body, state_in: plan.state }, workgroups: grid1d(device, quads, WORKGROUP_SIZE), label }),
    );
  }
  if (count % 4 !== 0) {
    const kernel = await cache.get(shader, `${plan.entry}_tail`, { WORKGROUP_SIZE });
    dispatches.push(makeDispatch(device, kernel, { uniforms, buffers: { ...tail, state_in: plan.state }, workgroups: 1, label: `${label} tail` }));
  }
  return dispatches;
}

/** One Adam update of `count` flat parameters; the learning rate is read from io.state. */
export async function adamUpdate(
  cache: KernelCache,
  count: number,
  hp: AdamHyper,
  io: { params: BufferResource; grads: BufferResource; m: BufferResource; v: BufferResource; state: BufferResource },
): Promise<Dispatch[]> {
  const label = `adam_update(n=${count})`;
  checkBeta('beta1', hp.beta1);
  checkBeta('beta2', hp.beta2);
  if (!(hp.epsilon >= 0)) throw new RangeError(`epsilon must be >= 0, got ${hp.epsilon}`);
  checkFlatBuffers(label, count, io);
  return buildUpdate(cache, {
    label,
    count,
    uniforms: optimizerUniforms(count, { beta1: hp.beta1, beta2: hp.beta2, epsilon: hp.epsilon, momentum: 0, nesterov: false }),
    entry: 'adam_update',
    state: io.state,
    flat: { params: io.params, grads: io.grads, m: io.m, v: io.v },
  });
}

/** One SGD update of `count` flat parameters; the learning rate is read from io.state. */
export async function sgdUpdate(
  cache: KernelCache,
  count: number,
  hp: SgdHyper,
  io: { params: BufferResource; grads: BufferResource; velocity: BufferResource; state: BufferResource },
): Promise<Dispatch[]> {
  const label = `sgd_update(n=${count}${hp.nesterov ? ', nesterov' : ''})`;
  if (!(hp.momentum >= 0 && hp.momentum <= 1)) throw new RangeError(`momentum must be in [0, 1], got ${hp.momentum}`);
  checkFlatBuffers(label, count, io);
  return buildUpdate(cache, {
    label,
    count,
    // Zero betas make begin_step's corrections 1 (it still counts the steps).
    uniforms: optimizerUniforms(count, { beta1: 0, beta2: 0, epsilon: 0, momentum: hp.momentum, nesterov: hp.nesterov }),
    entry: 'sgd_update',
    state: io.state,
    flat: { params: io.params, grads: io.grads, velocity: io.velocity },
  });
}

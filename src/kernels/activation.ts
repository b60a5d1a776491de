/**
 * Standalone activation kernels (shaders/activation.wgsl), for activations not
 * fused into the producing conv2d/dense or the consuming layer's backward
 * pass. Four elements per invocation. Backward overwrites dinp.
 */
import type { ActivationKind } from '../reference/activation.ts';
import activationFunctionsCode from '../../shaders/activation-functions.wgsl?raw';
import { grid1d, makeDispatch, type BufferResource, type Dispatch, type KernelCache } from './kernel.ts';
import { wgslConstant } from './reflect.ts';
import { shaders } from './sources.ts';

/** The ACTIVATION override's codes, read from shaders/activation-functions.wgsl (ACT_*). */
export const ACTIVATION_CODES: Record<ActivationKind, number> = {
  linear: wgslConstant('activation-functions.wgsl', activationFunctionsCode, 'ACT_LINEAR'),
  tanh: wgslConstant('activation-functions.wgsl', activationFunctionsCode, 'ACT_TANH'),
  sigmoid: wgslConstant('activation-functions.wgsl', activationFunctionsCode, 'ACT_SIGMOID'),
  relu: wgslConstant('activation-functions.wgsl', activationFunctionsCode, 'ACT_RELU'),
};
const WORKGROUP_SIZE = 256;
/** Elements per invocation (written out in the WGSL). */
const PER_INVOCATION = 4;

export async function activationForward(cache: KernelCache, kind: ActivationKind, count: number, io: { out: BufferResource; inp: BufferResource }): Promise<Dispatch> {
  const kernel = await cache.get(shaders.activation, 'activation_forward', { ACTIVATION: ACTIVATION_CODES[kind], WORKGROUP_SIZE });
  return makeDispatch(cache.device, kernel, {
    uniforms: { count },
    buffers: { inp: io.inp, out: io.out },
    workgroups: grid1d(cache.device, Math.ceil(count / PER_INVOCATION), WORKGROUP_SIZE),
    label: `activation_forward(${kind})`,
  });
}

export async function activationBackward(
  cache: KernelCache,
  kind: ActivationKind,
  count: number,
  io: { dinp: BufferResource; dout: BufferResource; out: BufferResource },
): Promise<Dispatch> {
  const kernel = await cache.get(shaders.activation, 'activation_backward', { ACTIVATION: ACTIVATION_CODES[kind], WORKGROUP_SIZE });
  return makeDispatch(cache.device, kernel, {
    uniforms: { count },
    buffers: { inp: io.dout, fwd_out: io.out, out: io.dinp },
    workgroups: grid1d(cache.device, Math.ceil(count / PER_INVOCATION), WORKGROUP_SIZE),
    label: `activation_backward(${kind})`,
  });
}

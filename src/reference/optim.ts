/**
 * Optimizers with Keras semantics: CPU reference.
 *
 * All buffers are flat and share one layout (params, grads and the optimizer
 * state m, v, velocity: the parameter layout of model/params.ts). Each update
 * reads grads and updates params and state in place.
 *
 * Adam (Keras: tf.keras.optimizers.Adam), step t = 1 for the first update:
 *   m = b1 m + (1 - b1) g
 *   v = b2 v + (1 - b2) g^2
 *   alpha = lr * sqrt(1 - b2^t) / (1 - b1^t)
 *   p -= alpha * m / (sqrt(v) + eps)
 * Note Keras puts eps outside the bias correction (eps is effectively
 * eps * sqrt(1 - b2^t) in the paper's form); that is why its default is 1e-7.
 *
 * SGD (Keras: tf.keras.optimizers.SGD):
 *   v = momentum v - lr g
 *   p += v                         (plain momentum)
 *   p += momentum v - lr g         (nesterov, with the updated v)
 * With momentum 0 this is p -= lr g.
 *
 * ReferenceOptimizer bundles a rule with its state so a training loop can
 * hold one object; optimizerStep counts Adam's steps for it.
 */
import type { Vec, VecConstructor } from '../util/vec.ts';

export interface AdamHyper {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export interface SgdHyper {
  learningRate: number;
  momentum: number;
  nesterov: boolean;
}

/** Keras defaults. */
export const defaultAdam: Readonly<AdamHyper> = Object.freeze({ learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
export const defaultSgd: Readonly<SgdHyper> = Object.freeze({ learningRate: 0.01, momentum: 0, nesterov: false });

export function adamStep(
  params: Vec, // (P)
  grads: Vec, // (P)
  m: Vec, // (P) first moment, zero before the first step
  v: Vec, // (P) second moment, zero before the first step
  step: number, // 1 for the first update
  hp: AdamHyper = defaultAdam,
): void {
  if (!(Number.isInteger(step) && step >= 1)) throw new RangeError(`adam step must be an integer >= 1 (1 for the first update), got ${step}`);
  const { learningRate, beta1, beta2, epsilon } = hp;
  const alpha = (learningRate * Math.sqrt(1 - beta2 ** step)) / (1 - beta1 ** step);
  const n = params.length;
  for (let i = 0; i < n; i++) {
    const g = grads[i];
    const mi = beta1 * m[i] + (1 - beta1) * g;
    const vi = beta2 * v[i] + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    // Use the stored (possibly float32-rounded) moments, as a GPU kernel reading them back would.
    params[i] -= (alpha * m[i]) / (Math.sqrt(v[i]) + epsilon);
  }
}

export function sgdMomentumStep(
  params: Vec, // (P)
  grads: Vec, // (P)
  velocity: Vec, // (P) zero before the first step; unused when momentum is 0
  hp: SgdHyper = defaultSgd,
): void {
  const { learningRate, momentum, nesterov } = hp;
  const n = params.length;
  if (momentum === 0) {
    for (let i = 0; i < n; i++) params[i] -= learningRate * grads[i];
    return;
  }
  for (let i = 0; i < n; i++) {
    const vi = momentum * velocity[i] - learningRate * grads[i];
    velocity[i] = vi;
    params[i] += nesterov ? momentum * velocity[i] - learningRate * grads[i] : velocity[i];
  }
}

/** An optimizer rule with its state. `step` counts the Adam updates already applied. */
export type ReferenceOptimizer =
  | { kind: 'adam'; hp: AdamHyper; m: Vec; v: Vec; step: number }
  | { kind: 'sgd'; hp: SgdHyper; velocity: Vec };

/** Fresh state (zeros) for `size` parameters; hyperparameters default to Keras's. */
export function createAdam(size: number, hp: Partial<AdamHyper> = {}, arrayType: VecConstructor = Float32Array): ReferenceOptimizer {
  return { kind: 'adam', hp: { ...defaultAdam, ...hp }, m: new arrayType(size), v: new arrayType(size), step: 0 };
}

export function createSgd(size: number, hp: Partial<SgdHyper> = {}, arrayType: VecConstructor = Float32Array): ReferenceOptimizer {
  return { kind: 'sgd', hp: { ...defaultSgd, ...hp }, velocity: new arrayType(size) };
}

/** Applies one update; for Adam, increments opt.step first (so the first update uses t = 1). */
export function optimizerStep(opt: ReferenceOptimizer, params: Vec, grads: Vec): void {
  if (opt.kind === 'adam') {
    opt.step += 1;
    adamStep(params, grads, opt.m, opt.v, opt.step, opt.hp);
  } else {
    sgdMomentumStep(params, grads, opt.velocity, opt.hp);
  }
}

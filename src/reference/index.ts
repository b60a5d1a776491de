/**
 * The CPU reference: plain TypeScript kernels with llm.c-style signatures
 * (outputs first, inputs next, dimensions/geometry last) that define what
 * every GPU kernel must compute, plus a small network built from them.
 * Every backward overwrites its gradient outputs.
 */
export type { Vec, VecConstructor } from '../util/vec.ts';
export { conv2dForward, conv2dBackward } from './conv2d.ts';
export { avgPoolForward, avgPoolBackward, maxPoolForward, maxPoolBackward } from './pool.ts';
export { denseForward, denseBackward } from './dense.ts';
export { type ActivationKind, activationForward, activationBackward, softmaxForward, softmaxBackward } from './activation.ts';
export {
  type Labels,
  softmaxCrossEntropyForward,
  softmaxCrossEntropyBackward,
  categoricalCrossEntropyForward,
  categoricalCrossEntropyBackward,
} from './loss.ts';
export {
  type AdamHyper,
  type SgdHyper,
  type ReferenceOptimizer,
  defaultAdam,
  defaultSgd,
  adamStep,
  sgdMomentumStep,
  createAdam,
  createSgd,
  optimizerStep,
} from './optim.ts';
export { glorotUniform, glorotLimit } from '../model/init.ts';
export { ReferenceNetwork } from './network.ts';

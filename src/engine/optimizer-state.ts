/**
 * Optimizer configuration and its GPU state: the moment buffers (Adam m, v or
 * SGD velocity) in the flat parameter layout, the small state buffer holding
 * the step counter and learning rate, and the update dispatches over all
 * parameters at once.
 */
import { adamUpdate, createOptimizerState, sgdUpdate } from '../kernels/optimizer.ts';
import { disposeDispatch, type Dispatch, type KernelCache } from '../kernels/kernel.ts';
import { STORAGE } from '../gpu/buffers.ts';
import { defaultAdam, defaultSgd, type AdamHyper, type SgdHyper } from '../reference/optim.ts';

export type OptimizerConfig = ({ kind: 'adam' } & Partial<AdamHyper>) | ({ kind: 'sgd' } & Partial<SgdHyper>);

export type ResolvedOptimizer = ({ kind: 'adam' } & AdamHyper) | ({ kind: 'sgd' } & SgdHyper);

export function resolveOptimizer(config: OptimizerConfig = { kind: 'adam' }): ResolvedOptimizer {
  const resolved: ResolvedOptimizer = config.kind === 'sgd' ? { ...defaultSgd, ...config, kind: 'sgd' } : { ...defaultAdam, ...config, kind: 'adam' };
  if (!(resolved.learningRate > 0) || !Number.isFinite(resolved.learningRate)) {
    throw new RangeError(`learning rate must be a positive finite number, got ${resolved.learningRate}`);
  }
  if (resolved.kind === 'sgd' && !(resolved.momentum >= 0 && resolved.momentum < 1)) throw new RangeError(`SGD momentum must be in [0, 1), got ${resolved.momentum}`);
  if (resolved.kind === 'adam' && !(resolved.beta1 >= 0 && resolved.beta1 < 1 && resolved.beta2 >= 0 && resolved.beta2 < 1 && resolved.epsilon > 0)) {
    throw new RangeError(`Adam needs beta1, beta2 in [0, 1) and epsilon > 0, got ${JSON.stringify(resolved)}`);
  }
  return resolved;
}

export class OptimizerState {
  /** Adam: [m, v]; SGD: [velocity]. Same layout as the parameters. */
  readonly slots: GPUBuffer[];
  readonly state: GPUBuffer;
  /** The update over all parameters; empty until recordUpdate() resolves. */
  readonly update: Dispatch[] = [];
  private recorded: Promise<Dispatch[]> | undefined;

  private constructor(
    readonly config: ResolvedOptimizer,
    slots: GPUBuffer[],
    state: GPUBuffer,
    private readonly bind: { cache: KernelCache; params: GPUBuffer; grads: GPUBuffer; count: number },
  ) {
    this.slots = slots;
    this.state = state;
  }

  /** The state's buffers (a checkpoint can be restored into them at once); the update compiles when training first needs it. */
  static create(cache: KernelCache, config: ResolvedOptimizer, params: GPUBuffer, grads: GPUBuffer, count: number): OptimizerState {
    const device = cache.device;
    const slot = (label: string): GPUBuffer => device.createBuffer({ size: count * 4, usage: STORAGE(), label });
    const slots = config.kind === 'adam' ? [slot('adam m'), slot('adam v')] : [slot('sgd velocity')];
    const state = createOptimizerState(device, 0, config.learningRate);
    return new OptimizerState(config, slots, state, { cache, params, grads, count });
  }

  /** Records the update dispatches once (their pipelines compile then) and returns them. */
  recordUpdate(): Promise<Dispatch[]> {
    this.recorded ??= (async () => {
      const { cache, params, grads, count } = this.bind;
      const { config, slots, state } = this;
      const list =
        config.kind === 'adam'
          ? await adamUpdate(cache, count, config, { params, grads, m: slots[0], v: slots[1], state })
          : await sgdUpdate(cache, count, config, { params, grads, velocity: slots[0], state });
      this.update.push(...list);
      return this.update;
    })();
    return this.recorded;
  }

  dispose(): void {
    this.update.forEach(disposeDispatch);
    for (const s of this.slots) s.destroy();
    this.state.destroy();
  }
}

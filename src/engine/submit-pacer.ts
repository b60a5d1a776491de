/**
 * How the CPU keeps pace with the GPU's queue without wasting the CPU.
 *
 * 'promise': one `onSubmittedWorkDone()` per submit; when more than
 * `maxInFlight` command buffers are queued, await the oldest. The queue never
 * runs dry. Browsers wait in their GPU process, so the page pays nothing; in
 * Node on a hardware GPU, Dawn's binding polls a core for completion, but that
 * core is not the GPU's.
 *
 * 'timer' (Node on a CPU adapter such as SwiftShader): the poll would run on
 * the same cores as the shaders. So queue `maxInFlight` command buffers,
 * sleep on a timer for 90% of what they are expected to take, and only then
 * ask for the completion promise; the waits that remain run at low priority
 * (gpu-wait.ts). The expectation is learned per kind of work (ms per step)
 * from earlier waits, each of which is an upper bound of the true time, so
 * the estimate follows a faster GPU down at once and a slower one up
 * gradually. The GPU idles only for the moment between the wait and the next
 * submit (encoding; well under 1% of a SwiftShader step).
 */
import { isCpuAdapter, type AdapterReport } from '../gpu/device.ts';
import type { Model } from './model.ts';
import { awaitGpu, gpuIdle } from '../gpu/gpu-wait.ts';

export type SubmitWait = 'promise' | 'timer';

/** The wait that suits the device: 'timer' in Node on a CPU adapter, 'promise' everywhere else. */
export function defaultSubmitWait(report: Pick<AdapterReport, 'runtime' | 'isFallback' | 'vendor' | 'architecture'>): SubmitWait {
  return report.runtime.startsWith('node') && isCpuAdapter(report) ? 'timer' : 'promise';
}

const SLEEP_SHARE = 0.9;
const RAISE_WEIGHT = 0.3;

interface QueuedSubmit {
  work: number;
  at: number;
  done?: Promise<unknown>;
  onDone?: () => void;
}

export class SubmitPacer {
  private readonly queued: QueuedSubmit[] = [];
  /** Learned ms per unit of work ('timer' mode); undefined until the first wait. */
  private msPerWork: number | undefined;

  constructor(
    private readonly device: GPUDevice,
    readonly mode: SubmitWait,
    readonly maxInFlight = 2,
  ) {
    // 0: wait for every submit before the next is recorded (step-by-step debugging, parity runs).
    if (!Number.isInteger(maxInFlight) || maxInFlight < 0) throw new RangeError(`maxInFlight must be a non-negative integer, got ${maxInFlight}`);
  }

  /** The learned cost of one unit of work in ms ('timer' mode), for reports and tests. */
  get estimateMs(): number | undefined {
    return this.msPerWork;
  }

  /**
   * Call right after each submit with the work it holds (steps) and what to
   * run once it has completed. Resolves when the CPU may record the next one.
   */
  async submitted(work: number, onDone?: () => void): Promise<void> {
    const entry: QueuedSubmit = { work, at: performance.now(), onDone };
    if (this.mode === 'promise') {
      entry.done = awaitGpu(this.device, this.device.queue.onSubmittedWorkDone());
      this.queued.push(entry);
      if (this.queued.length > this.maxInFlight) await this.finish(this.queued.shift()!);
      return;
    }
    this.queued.push(entry);
    if (this.queued.length >= Math.max(1, this.maxInFlight)) await this.drain();
  }

  /** Waits until everything submitted so far has completed and runs their callbacks. */
  async drain(): Promise<void> {
    if (this.mode === 'promise') {
      while (this.queued.length) await this.finish(this.queued.shift()!);
      return;
    }
    const batch = this.queued.splice(0);
    if (batch.length === 0) return;
    const work = batch.reduce((sum, q) => sum + q.work, 0);
    const first = batch[0].at;
    if (this.msPerWork !== undefined) {
      const sleepMs = SLEEP_SHARE * this.msPerWork * work - (performance.now() - first);
      if (sleepMs > 1) await new Promise((resolve) => setTimeout(resolve, sleepMs));
    }
    await gpuIdle(this.device);
    if (work > 0) this.learn((performance.now() - first) / work);
    for (const q of batch) q.onDone?.();
  }

  /** Forgets queued submits without waiting (after a failure; their callbacks never run). */
  discard(): void {
    this.queued.length = 0;
  }

  private async finish(entry: QueuedSubmit): Promise<void> {
    await entry.done;
    entry.onDone?.();
  }

  private learn(sample: number): void {
    // A measured wait is an upper bound of the GPU's time: trust a lower one at once.
    if (this.msPerWork === undefined || sample < this.msPerWork) this.msPerWork = sample;
    else this.msPerWork += RAISE_WEIGHT * (sample - this.msPerWork);
  }
}

const pacers = new WeakMap<Model, Map<string, SubmitPacer>>();

/**
 * The model's pacer for one kind of work ('train', 'eval'): kept with the
 * model so what it learned carries from epoch to epoch and from fit's
 * validation passes to evaluate().
 */
export function pacerFor(model: Model, kind: string, maxInFlight = 2, mode?: SubmitWait): SubmitPacer {
  let byKind = pacers.get(model);
  if (!byKind) pacers.set(model, (byKind = new Map()));
  const wanted = mode ?? defaultSubmitWait(model.gpu.report);
  const key = `${kind}/${wanted}/${maxInFlight}`;
  let pacer = byKind.get(key);
  if (!pacer) byKind.set(key, (pacer = new SubmitPacer(model.device, wanted, maxInFlight)));
  return pacer;
}

/**
 * What the Node runner (bench/run.ts) asks the bench page
 * (bench/pages/bench-page.ts) to do, and what the page answers. The runner
 * loads the page once per stage (a fresh page each time, so one stage's
 * WebGPU device or TF.js backend never shares a page with the next), calls
 * `window.__bench.start(stage)` and polls `window.__benchResult`.
 */
import type { AdapterReport } from '../src/gpu/device.ts';
import type { KernelCaseResult, MatmulCeiling, TimingOptions } from '../src/bench/kernels.ts';
import type { StepBenchOptions, StepBenchResult } from '../src/bench/train-step.ts';
import type { TfjsBackend, TfjsStepOptions, TfjsStepResult } from './pages/tfjs-lenet.ts';

export type StepPlan = Omit<StepBenchOptions, 'batch' | 'spec'>;

export type Stage =
  | { kind: 'adapter' }
  | { kind: 'ours'; batches: number[]; step: StepPlan; ceiling?: { sizes: [number, number, number][]; timing?: TimingOptions } }
  | { kind: 'kernels'; batch: number; timing?: TimingOptions }
  | { kind: 'tfjs'; backend: TfjsBackend; batches: number[]; step: Omit<TfjsStepOptions, 'batch'> };

export interface AdapterStageResult {
  userAgent: string;
  report: AdapterReport;
  /** Every feature the adapter offers, as navigator.gpu reports it. */
  adapterFeatures: string[];
}

export interface OursStageResult {
  steps: StepBenchResult[];
  ceiling?: MatmulCeiling;
}

export interface TfjsBatchResult {
  batch: number;
  result?: TfjsStepResult;
  error?: string;
}

export interface TfjsStageResult {
  backend: TfjsBackend;
  /** Set when the backend could not even initialise. */
  initError?: string;
  info?: Record<string, unknown>;
  batches: TfjsBatchResult[];
}

export interface KernelsStageResult {
  batch: number;
  results: KernelCaseResult[];
}

export type StageResult = AdapterStageResult | OursStageResult | TfjsStageResult | KernelsStageResult;

export interface PageAnswer {
  ok: boolean;
  result?: StageResult;
  error?: string;
}

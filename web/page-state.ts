/**
 * What the page has done, as plain data on `window.__lenet` and the phase on
 * `<body data-phase>`: the browser tests read it instead of scraping text,
 * and a curious user can inspect it in the console. Only this module writes it.
 */
import type { EpochLog, Recovery, StepEvent } from '../src/index.ts';

export type Phase = 'starting' | 'no-webgpu' | 'ready' | 'training' | 'evaluating' | 'trained' | 'error';

export interface PageState {
  phase: Phase;
  /** One line describing the WebGPU adapter. */
  adapter?: string;
  data?: { train: number; test: number; seconds: number };
  run?: {
    steps: StepEvent[];
    epochs: EpochLog[];
    stopReason?: string;
    notes: string[];
    /** Devices lost during the run and recovered from. */
    recoveries: Recovery[];
    /** The last epoch whose checkpoint is kept in this browser (what a reload continues from). */
    savedEpoch?: number;
    /** Set when the run continued a saved one: the epochs it had then. */
    resumedAfterEpoch?: number;
    /** Points drawn on the curves canvas so far. */
    curvePoints: { loss: number; accuracy: number; validation: number };
  };
  /** Training runs started on this page load (a click on Train while one runs starts none). */
  runsStarted: number;
  evaluation?: { count: number; accuracy: number; loss: number; macroAuc: number; confusion: number[][]; mistakes: number; seconds: number };
  /** The model the pad predicts with. */
  model?: { source: string; name: string; epoch: number; batch: number };
  /** The latest prediction of the drawing pad; `count` increases with each; `byTrainingModel` while a run trains. */
  prediction?: { digit: number; probabilities: number[]; count: number; byTrainingModel: boolean };
  /** True while the pad's drawing is being (or is about to be) classified. */
  predicting?: boolean;
  saved?: { at: string; bytes: number };
  /** An unfinished run kept in this browser, offered for resuming. */
  resumable?: { epochs: number; totalEpochs: number; savedAt: string };
  errors: string[];
}

declare global {
  interface Window {
    __lenet: PageState;
  }
}

export const state: PageState = { phase: 'starting', runsStarted: 0, errors: [] };
window.__lenet = state;

export function setPhase(phase: Phase): void {
  state.phase = phase;
  document.body.dataset.phase = phase;
}

export function recordError(message: string): void {
  state.errors.push(message);
  console.error(`[lenet-gpu page] ${message}`);
}

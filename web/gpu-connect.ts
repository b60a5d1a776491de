/**
 * The training worker and its WebGPU device, or why there is none. The page
 * starts the worker at once (data loads there meanwhile), then asks it for a
 * device. With no WebGPU the page must say so and how to fix it (BROWSER_HELP:
 * which browsers, which flags), not go blank: the rest of the page (spec
 * editing, the data) still works.
 */
import { requestGpu, WebGpuUnavailableError } from '../src/index.ts';
import { navigatorGpu } from '../src/gpu/device.ts';
import { BROWSER_HELP } from '../src/gpu/errors.ts';
import { TrainerClient } from '../src/worker/index.ts';
import { byId, errorText, showMessage } from './ui/dom.ts';
import { recordError, setPhase, state } from './page-state.ts';

/** Starts the worker that trains and predicts (web/trainer-worker.ts). */
export function startTrainer(): TrainerClient {
  const worker = new Worker(new URL('./trainer-worker.ts', import.meta.url), { type: 'module', name: 'lenet-gpu trainer' });
  return TrainerClient.start(worker, {
    onDeviceLost: (info) => {
      const message = `The GPU device was lost (${info.reason}: ${info.message}). Reload the page; the last model is kept in this browser.`;
      showMessage(byId('app-error', HTMLElement), message);
      recordError(message);
      setPhase('error');
    },
    onGpuError: (message) => recordError(`uncaptured GPU error: ${message}`),
  });
}

/** Gets the worker its device; false (with the page told why) where there is none. */
export async function connectGpu(trainer: TrainerClient): Promise<boolean> {
  const status = byId('gpu-status', HTMLElement);
  try {
    // A browser without WebGPU on the page has none in its workers: requestGpu says so here at once.
    if (!navigatorGpu()) await requestGpu();
    const r = await trainer.requestGpu();
    state.adapter = `${r.vendor || '?'} / ${r.architecture || '?'}${r.description ? ` (${r.description})` : ''}${r.isFallback ? ' [CPU fallback]' : ''}`;
    status.textContent = `WebGPU adapter: ${state.adapter}; training runs in a worker, off the page's main thread.`;
    return true;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    byId('gpu-help-message', HTMLElement).textContent = message.includes(BROWSER_HELP) ? message : `${message} ${BROWSER_HELP}`;
    byId('gpu-help', HTMLElement).hidden = false;
    status.textContent = error instanceof WebGpuUnavailableError ? 'No WebGPU: training and prediction are off; the model editor still works.' : `WebGPU failed: ${errorText(error)}`;
    recordError(errorText(error));
    setPhase('no-webgpu');
    return false;
  }
}

/**
 * Gets the WebGPU device, or explains why not. With no WebGPU the page must
 * say so and how to fix it (BROWSER_HELP: which browsers, which flags), not
 * go blank: the rest of the page (spec editing, the data) still works.
 */
import { requestGpu, WebGpuUnavailableError, type Gpu } from '../src/index.ts';
import { BROWSER_HELP } from '../src/gpu/errors.ts';
import { byId, errorText, showMessage } from './ui/dom.ts';
import { recordError, setPhase, state } from './page-state.ts';

export async function connectGpu(): Promise<Gpu | undefined> {
  const status = byId('gpu-status', HTMLElement);
  try {
    const gpu = await requestGpu({
      onLost: (info) => {
        const message = `The GPU device was lost (${info.reason}: ${info.message}). Reload the page; the last model is kept in this browser.`;
        showMessage(byId('app-error', HTMLElement), message);
        recordError(message);
        setPhase('error');
      },
      onError: (error) => recordError(`uncaptured GPU error: ${error.message}`),
    });
    const r = gpu.report;
    state.adapter = `${r.vendor || '?'} / ${r.architecture || '?'}${r.description ? ` (${r.description})` : ''}${r.isFallback ? ' [CPU fallback]' : ''}`;
    status.textContent = `WebGPU adapter: ${state.adapter}.`;
    return gpu;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    byId('gpu-help-message', HTMLElement).textContent = message.includes(BROWSER_HELP) ? message : `${message} ${BROWSER_HELP}`;
    byId('gpu-help', HTMLElement).hidden = false;
    status.textContent = error instanceof WebGpuUnavailableError ? 'No WebGPU: training and prediction are off; the model editor still works.' : `WebGPU failed: ${errorText(error)}`;
    recordError(errorText(error));
    setPhase('no-webgpu');
    return undefined;
  }
}

/**
 * The one model the page predicts with (and saves), whichever way it came:
 * trained here, restored from IndexedDB, or loaded from a file; it lives in
 * the training worker. Replacing it disposes the previous model's GPU
 * buffers there; listeners update the UI.
 */
import type { RemoteModel } from '../src/worker/index.ts';
import { recordError, state } from './page-state.ts';
import { errorText } from './ui/dom.ts';

export interface SlotModel {
  model: RemoteModel;
  /** 'trained here', 'restored from this browser', or a file name. */
  source: string;
  /** Epochs the weights have been trained for. */
  epoch: number;
}

type Listener = (current: SlotModel | undefined) => void;

export class ModelSlot {
  private value: SlotModel | undefined;
  private readonly listeners: Listener[] = [];

  get current(): SlotModel | undefined {
    return this.value;
  }

  set(next: SlotModel | undefined): void {
    if (this.value && this.value.model !== next?.model) this.value.model.dispose().catch((error: unknown) => recordError(`disposing the previous model: ${errorText(error)}`));
    this.value = next;
    state.model = next && { source: next.source, name: next.model.name, epoch: next.epoch, batch: next.model.batchSize };
    for (const listener of this.listeners) listener(next);
  }

  onChange(listener: Listener): void {
    this.listeners.push(listener);
  }
}

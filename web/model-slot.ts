/**
 * The one model the page predicts with (and saves), whichever way it came:
 * trained here, restored from IndexedDB, or loaded from a file. Replacing it
 * disposes the previous model's GPU buffers; listeners update the UI.
 */
import type { Model } from '../src/index.ts';
import { state } from './page-state.ts';

export interface SlotModel {
  model: Model;
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
    if (this.value && this.value.model !== next?.model) this.value.model.dispose();
    this.value = next;
    state.model = next && { source: next.source, name: next.model.plan.name, epoch: next.epoch, batch: next.model.batchSize };
    for (const listener of this.listeners) listener(next);
  }

  onChange(listener: Listener): void {
    this.listeners.push(listener);
  }
}

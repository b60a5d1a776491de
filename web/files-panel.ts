/**
 * The save-and-load card. A trained model is captured as checkpoint bytes
 * (the CLI's format, moved over from the training worker) and kept in
 * IndexedDB; on the next visit the worker rebuilds it from those bytes alone,
 * so the pad predicts without retraining. The same bytes download as a .ckpt
 * file, and an uploaded .ckpt replaces the model.
 */
import type { TrainerClient } from '../src/worker/index.ts';
import { downloadBytes, readFileBytes } from './checkpoint-file.ts';
import type { ModelSlot, SlotModel } from './model-slot.ts';
import { forgetModel, loadStoredModel, saveModel } from './model-store.ts';
import { recordError, state } from './page-state.ts';
import type { TrainSettings } from './settings.ts';
import { byId, errorText } from './ui/dom.ts';

export class FilesPanel {
  private readonly status = byId('model-status', HTMLElement);
  private readonly download = byId('download', HTMLButtonElement);
  private readonly upload = byId('upload', HTMLInputElement);
  private savedNote = '';

  constructor(
    /** The worker, once it has a GPU device. */
    private readonly trainer: () => TrainerClient | undefined,
    private readonly slot: ModelSlot,
    private readonly batch: () => number,
  ) {
    this.download.addEventListener('click', () => void this.downloadCheckpoint());
    this.upload.addEventListener('change', () => void this.uploadCheckpoint());
    byId('forget', HTMLButtonElement).addEventListener('click', () => void this.forget());
    slot.onChange((current) => this.describe(current));
  }

  /** Rebuilds the model kept in this browser, if there is one. */
  async restoreFromBrowser(): Promise<void> {
    const trainer = this.trainer();
    if (!trainer) return;
    try {
      const stored = await loadStoredModel();
      if (!stored) return;
      const { model, header } = await trainer.modelFromCheckpoint(stored.bytes, { source: 'the model saved in this browser', batchSize: this.batch() });
      this.savedNote = `kept in this browser since ${new Date(stored.savedAt).toLocaleString()}`;
      this.slot.set({ model, source: `restored from this browser (${stored.source})`, epoch: header.epoch });
    } catch (error) {
      this.fail('Could not restore the model saved in this browser', error);
    }
  }

  /** Keeps a freshly trained model in IndexedDB, with the run's settings on its run card. */
  async keepTrained(settings: TrainSettings): Promise<void> {
    const current = this.slot.current;
    if (!current) return;
    try {
      const bytes = await current.model.captureCheckpoint(current.epoch, { ...settings, batchSize: settings.batch, testAccuracy: state.evaluation?.accuracy, trainedIn: 'browser' });
      const savedAt = new Date().toISOString();
      await saveModel({ bytes, source: 'trained here', savedAt });
      state.saved = { at: savedAt, bytes: bytes.length };
      this.savedNote = `kept in this browser (${(bytes.length / 1024).toFixed(0)} KiB)`;
      this.describe(current);
    } catch (error) {
      this.fail('Could not keep the model in this browser', error);
    }
  }

  private describe(current: SlotModel | undefined): void {
    this.download.disabled = !current;
    this.status.classList.remove('alert');
    this.status.textContent = current
      ? `Model: ${current.model.name}, ${current.model.paramCount.toLocaleString('en-US')} parameters, ${current.epoch} epoch(s), ${current.source}${this.savedNote ? `; ${this.savedNote}` : ''}.`
      : 'No model yet: train one or load a checkpoint.';
  }

  private async downloadCheckpoint(): Promise<void> {
    const current = this.slot.current;
    if (!current) return;
    try {
      const bytes = await current.model.captureCheckpoint(current.epoch, { batchSize: current.model.batchSize, trainedIn: 'browser' });
      downloadBytes(bytes, `${current.model.name}-epoch${current.epoch}.ckpt`);
    } catch (error) {
      this.fail('Could not capture the checkpoint', error);
    }
  }

  private async uploadCheckpoint(): Promise<void> {
    const file = this.upload.files?.[0];
    const trainer = this.trainer();
    this.upload.value = '';
    if (!file) return;
    if (!trainer) {
      this.fail('Cannot load a checkpoint', new Error('this browser has no WebGPU'));
      return;
    }
    try {
      const bytes = await readFileBytes(file);
      const { model, header } = await trainer.modelFromCheckpoint(bytes, { source: file.name, batchSize: this.batch() });
      const savedAt = new Date().toISOString();
      await saveModel({ bytes, source: file.name, savedAt });
      state.saved = { at: savedAt, bytes: bytes.length };
      this.savedNote = 'kept in this browser';
      this.slot.set({ model, source: `loaded from ${file.name}`, epoch: header.epoch });
    } catch (error) {
      this.fail(`Could not load ${file.name}`, error);
    }
  }

  private async forget(): Promise<void> {
    try {
      await forgetModel();
      state.saved = undefined;
      this.savedNote = 'not kept in this browser';
      this.describe(this.slot.current);
    } catch (error) {
      this.fail('Could not forget the saved model', error);
    }
  }

  private fail(what: string, error: unknown): void {
    this.status.textContent = `${what}: ${errorText(error)}`;
    this.status.classList.add('alert');
    recordError(`${what}: ${errorText(error)}`);
  }
}

/**
 * Keeps models in the browser (IndexedDB): the last trained or loaded model,
 * so a reload can predict without retraining, and the run in progress, so a
 * closed or reloaded tab can continue it. Each record holds checkpoint bytes
 * exactly as a downloaded .ckpt file would (src/engine/checkpoint.ts; the
 * run's, with the fit state that continues it exactly), plus where it came
 * from. IndexedDB stores binary data as is, and a checkpoint (about 0.7 MB
 * for LeNet-5 with Adam state) is too big for a comfortable localStorage.
 */
import type { EpochLog, ModelSpec } from '../src/index.ts';
import type { TrainSettings } from './settings.ts';

const DB_NAME = 'lenet-gpu';
const STORE = 'models';
const KEY = 'latest';
const RUN_KEY = 'unfinished run';

/** A run in progress, as of its last epoch end. */
export interface StoredRun {
  settings: TrainSettings;
  spec: ModelSpec;
  /** The last epoch-end checkpoint, with the fit state that continues the run. */
  checkpoint: Uint8Array;
  /** The epochs logged so far (the curves' epoch points). */
  epochs: EpochLog[];
  savedAt: string;
}

export interface StoredModel {
  bytes: Uint8Array;
  /** 'trained here' or the uploaded file's name. */
  source: string;
  savedAt: string;
}

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === 'undefined') {
      reject(new Error('this browser has no IndexedDB (private mode?); the model cannot be kept across reloads'));
      return;
    }
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB open failed'));
  });
}

async function withStore<T>(mode: IDBTransactionMode, action: (store: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = action(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result as T);
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
  } finally {
    db.close();
  }
}

export async function saveModel(model: StoredModel): Promise<void> {
  await withStore<IDBValidKey>('readwrite', (store) => store.put(model, KEY));
}

export async function loadStoredModel(): Promise<StoredModel | undefined> {
  const value = await withStore<unknown>('readonly', (store) => store.get(KEY));
  const record = value as Partial<StoredModel> | undefined;
  return record?.bytes instanceof Uint8Array ? { bytes: record.bytes, source: String(record.source ?? 'saved'), savedAt: String(record.savedAt ?? '') } : undefined;
}

export async function forgetModel(): Promise<void> {
  await withStore<undefined>('readwrite', (store) => store.delete(KEY));
}

export async function saveRun(run: StoredRun): Promise<void> {
  await withStore<IDBValidKey>('readwrite', (store) => store.put(run, RUN_KEY));
}

export async function loadRun(): Promise<StoredRun | undefined> {
  const value = (await withStore<unknown>('readonly', (store) => store.get(RUN_KEY))) as Partial<StoredRun> | undefined;
  return value?.checkpoint instanceof Uint8Array && value.settings && value.spec && Array.isArray(value.epochs) ? (value as StoredRun) : undefined;
}

export async function forgetRun(): Promise<void> {
  await withStore<undefined>('readwrite', (store) => store.delete(RUN_KEY));
}

/**
 * A run that a reload or a closed tab interrupted: its last epoch-end
 * checkpoint is in IndexedDB (model-store.ts), so the next visit offers to
 * continue it, with its settings, spec and curves, to exactly the result an
 * uninterrupted run would have had; or to discard it.
 */
import { forgetRun, loadRun, type StoredRun } from './model-store.ts';
import { recordError, state } from './page-state.ts';
import { byId, errorText } from './ui/dom.ts';

export async function offerResume(resume: (saved: StoredRun) => Promise<void>): Promise<void> {
  let saved: StoredRun | undefined;
  try {
    saved = await loadRun();
  } catch (error) {
    recordError(`could not read the run kept in this browser: ${errorText(error)}`);
  }
  if (!saved) return;
  const run = saved;
  const offer = byId('resume-offer', HTMLElement);
  const total = run.settings.epochs;
  state.resumable = { epochs: run.epochs.length, totalEpochs: total, savedAt: run.savedAt };
  byId('resume-text', HTMLElement).textContent =
    `An unfinished run of ${run.spec.name ?? 'a custom model'} is kept in this browser: ${run.epochs.length} of ${total} epoch(s) done, saved ${new Date(run.savedAt).toLocaleString()}. ` +
    'Resuming it continues exactly where its last epoch ended.';
  offer.hidden = false;
  const close = (): void => {
    offer.hidden = true;
    state.resumable = undefined;
  };
  byId('resume-run', HTMLButtonElement).onclick = () => {
    close();
    void resume(run);
  };
  byId('discard-run', HTMLButtonElement).onclick = () => {
    close();
    forgetRun().catch((error: unknown) => recordError(`could not discard the kept run: ${errorText(error)}`));
  };
}

/**
 * The training page: wires the cards together. Everything GPU-side runs in a
 * dedicated worker (web/trainer-worker.ts) through the engine's worker API
 * (src/worker/, `lenet-gpu/worker`), the same engine code the Node CLI runs;
 * this thread edits the spec, draws the curves and the results, and stays
 * responsive while a run trains.
 *
 * Start-up: the form takes the preset's recipe, then any URL query settings
 * (?preset=lenet5-variant&epochs=2&batch=32&trainLimit=2000&testLimit=500);
 * the worker gets its GPU device while it loads MNIST; a model kept in this
 * browser is rebuilt so the pad predicts at once. `<body data-phase>` and
 * `window.__lenet` say where the page is (page-state.ts).
 */
import { presets } from '../src/index.ts';
import type { TrainerClient } from '../src/worker/index.ts';
import { loadData, type PageData } from './data-panel.ts';
import { FilesPanel } from './files-panel.ts';
import { connectGpu, startTrainer } from './gpu-connect.ts';
import { offerResume } from './resume-offer.ts';
import { ModelSlot } from './model-slot.ts';
import { recordError, setPhase, state } from './page-state.ts';
import { PredictPanel } from './predict-panel.ts';
import { defaultSettings, recipeSettings, settingsFromQuery, writeSettingsToForm, type TrainSettings } from './settings.ts';
import { TrainPanel } from './train-panel.ts';
import { byId, errorText, showMessage } from './ui/dom.ts';
import { SpecEditor } from './ui/spec-editor.ts';

const appError = byId('app-error', HTMLElement);
window.addEventListener('error', (e) => {
  showMessage(appError, `Unexpected error: ${e.message}`);
  recordError(e.message);
});
window.addEventListener('unhandledrejection', (e) => {
  showMessage(appError, `Unexpected error: ${errorText(e.reason)}`);
  recordError(errorText(e.reason));
});

const query = new URLSearchParams(location.search);
const requestedPreset = query.get('preset') ?? 'lenet5';
const preset = presets[requestedPreset] ? requestedPreset : 'lenet5';
const form = byId('train-form', HTMLFormElement);
let initial: TrainSettings = defaultSettings(preset);
try {
  initial = settingsFromQuery(query, initial);
} catch (error) {
  showMessage(byId('settings-error', HTMLElement), `Ignoring the URL's settings: ${errorText(error)}`);
}
writeSettingsToForm(form, initial);
const batchField = (): number => Number((form.elements.namedItem('batch') as HTMLInputElement).value);

const trainer = startTrainer();
// Fault injection for the end-to-end tests: the worker's device lost mid-run, as a driver reset would.
(window as unknown as { __lenetTest: unknown }).__lenetTest = { loseDevice: () => trainer.loseDeviceForTesting() };
/** The trainer once its device exists. */
let gpuReady: TrainerClient | undefined;
let data: PageData | undefined;
const slot = new ModelSlot();

const editor = new SpecEditor(
  {
    preset: byId('preset', HTMLSelectElement),
    json: byId('spec-json', HTMLTextAreaElement),
    error: byId('spec-error', HTMLElement),
    summary: byId('model-summary', HTMLElement),
    paramCount: byId('param-count', HTMLElement),
  },
  batchField,
  (_check, presetChanged) => {
    // Choosing a preset brings its training recipe along, as `train --preset` does.
    if (presetChanged) writeSettingsToForm(form, recipeSettings(presetChanged));
    trainPanel.validate();
  },
);
const files = new FilesPanel(() => gpuReady, slot, batchField);
const trainPanel = new TrainPanel({
  trainer: () => gpuReady,
  data: () => data,
  editor,
  slot,
  onTrained: (settings) => void files.keepTrained(settings),
});
const predictPanel = new PredictPanel(slot, () => trainPanel.trainingModel);
editor.selectPreset(preset);
if (requestedPreset !== preset) showMessage(byId('spec-error', HTMLElement), `Unknown preset "${requestedPreset}" in the URL; showing lenet5.`);

async function start(): Promise<void> {
  const dataLoaded = loadData(trainer, (image) => predictPanel.showImage(image)).then((d) => {
    data = d;
    trainPanel.validate();
  });
  if (await connectGpu(trainer)) gpuReady = trainer;
  trainPanel.validate();
  if (gpuReady) await files.restoreFromBrowser();
  await dataLoaded;
  if (gpuReady && data) await offerResume((saved) => trainPanel.resume(saved));
  if (state.phase === 'starting') setPhase('ready');
}

start().catch((error: unknown) => {
  showMessage(appError, `The page failed to start: ${errorText(error)}`);
  recordError(errorText(error));
  setPhase('error');
});

/**
 * The training card: the hyper-parameter form, Train / Pause / Stop (the
 * worker's fit: pause waits between submits, stop ends after the current one
 * and still evaluates what was learnt), the progress line with samples/s and
 * ETA, early-stopping status and the live curves; then the results card.
 * Training runs in the worker: this thread only draws what it reports.
 */
import type { RemoteFit, RemoteModel, TrainerClient } from '../src/worker/index.ts';
import type { PageData } from './data-panel.ts';
import { recordError, setPhase, state } from './page-state.ts';
import type { ModelSlot } from './model-slot.ts';
import { forgetRun, saveRun, type StoredRun } from './model-store.ts';
import { earlyStoppingOptions, readSettingsFromForm, writeSettingsToForm, type TrainSettings } from './settings.ts';
import { runTraining } from './training-run.ts';
import { CurvesChart } from './ui/curves.ts';
import { byId, errorText, showMessage } from './ui/dom.ts';
import { EarlyStoppingView } from './ui/early-stopping-view.ts';
import { earlyStoppingLine, epochLine, stepLine } from './ui/progress-text.ts';
import { renderResults } from './ui/results-view.ts';
import type { SpecEditor } from './ui/spec-editor.ts';

export interface TrainPanelDeps {
  /** The worker, once it has a GPU device. */
  trainer: () => TrainerClient | undefined;
  data: () => PageData | undefined;
  editor: SpecEditor;
  slot: ModelSlot;
  /** After a run produced a model (it is already in the slot). */
  onTrained: (settings: TrainSettings) => void;
}

export class TrainPanel {
  private readonly form = byId('train-form', HTMLFormElement);
  private readonly trainButton = byId('train', HTMLButtonElement);
  private readonly pauseButton = byId('pause', HTMLButtonElement);
  private readonly stopButton = byId('stop', HTMLButtonElement);
  private readonly progress = byId('progress', HTMLProgressElement);
  private readonly status = byId('train-status', HTMLElement);
  private readonly esStatus = byId('early-stopping-status', HTMLElement);
  private readonly settingsError = byId('settings-error', HTMLElement);
  private readonly chart = new CurvesChart(byId('curves', HTMLCanvasElement));
  /** Writes of the run kept in IndexedDB, one after another (a save must not land after the forget that ends it). */
  private runRecord: Promise<void> = Promise.resolve();
  /** Set from the click on Train until the run's model takes the slot (or the run fails). */
  private run: { fit?: RemoteFit; model?: RemoteModel; stopping: boolean } | undefined;

  constructor(private readonly deps: TrainPanelDeps) {
    this.trainButton.addEventListener('click', () => void this.train());
    this.pauseButton.addEventListener('click', () => this.togglePause());
    this.stopButton.addEventListener('click', () => this.stop());
    this.form.addEventListener('input', () => this.validate());
  }

  get running(): boolean {
    return this.run !== undefined;
  }

  /** The model being trained, while a run's fit is under way: the pad predicts with it. */
  get trainingModel(): RemoteModel | undefined {
    return this.run?.fit ? this.run.model : undefined;
  }

  /** Enables Train when the GPU, the data, the spec and the settings are all usable. */
  validate(): TrainSettings | undefined {
    let settings: TrainSettings | undefined;
    try {
      settings = readSettingsFromForm(this.form);
      showMessage(this.settingsError, undefined);
    } catch (error) {
      showMessage(this.settingsError, errorText(error));
    }
    const ready = Boolean(settings && this.deps.trainer() && this.deps.data() && this.deps.editor.current.ok);
    this.trainButton.disabled = this.running || !ready;
    if (!this.running && state.phase === 'no-webgpu') this.status.textContent = 'Training needs WebGPU: see the message at the top of the page.';
    else if (!this.running && this.deps.trainer() && !this.deps.data()) this.status.textContent = 'Waiting for the data…';
    else if (!this.running && ready && !state.run) this.status.textContent = 'Ready to train.';
    return settings;
  }

  private togglePause(): void {
    const fit = this.run?.fit;
    if (!fit || this.run?.stopping) return;
    void (fit.paused ? fit.resume() : fit.pause()).catch((error: unknown) => recordError(errorText(error)));
    this.pauseButton.textContent = fit.paused ? 'Resume' : 'Pause';
    if (fit.paused) this.status.textContent = `Paused. ${this.status.textContent ?? ''}`;
  }

  private stop(): void {
    const run = this.run;
    if (!run?.fit) return;
    run.stopping = true;
    void run.fit.stop().catch((error: unknown) => recordError(errorText(error)));
    this.stopButton.disabled = true;
    this.pauseButton.disabled = true;
    this.status.textContent = 'Stopping after the current steps…';
  }

  private setRunning(running: boolean): void {
    this.trainButton.disabled = running;
    this.pauseButton.disabled = !running;
    this.stopButton.disabled = !running;
    this.pauseButton.textContent = 'Pause';
    for (const element of Array.from(this.form.elements)) (element as HTMLInputElement).disabled = running;
  }

  /** Continues a run saved in this browser (a reload or a closed tab interrupted it): its settings, spec and curves come back first. */
  async resume(saved: StoredRun): Promise<void> {
    writeSettingsToForm(this.form, saved.settings);
    this.deps.editor.showSpec(saved.spec);
    await this.train(saved);
  }

  private async train(saved?: StoredRun): Promise<void> {
    const settings = this.validate();
    const trainer = this.deps.trainer();
    const data = this.deps.data();
    const check = this.deps.editor.current;
    if (!settings || !trainer || !data || !check.ok || this.running) return;
    const current: NonNullable<TrainPanel['run']> = { stopping: false };
    this.run = current;
    state.runsStarted++;
    this.setRunning(true);
    // Pause and Stop wait for the fit to exist (the kernels compile first).
    this.pauseButton.disabled = true;
    this.stopButton.disabled = true;
    setPhase('training');
    const run: NonNullable<typeof state.run> = { steps: [], epochs: [], notes: [], recoveries: [], curvePoints: { loss: 0, accuracy: 0, validation: 0 } };
    state.run = run;
    state.evaluation = undefined;
    this.chart.reset(settings.epochs);
    const early = new EarlyStoppingView(earlyStoppingOptions(settings));
    this.esStatus.textContent = early.active ? earlyStoppingLine(early.monitor, early.patience, undefined) : 'Early stopping: off.';
    this.progress.value = 0;
    // A resumed run shows its epochs so far before it trains the rest.
    for (const log of saved?.epochs ?? []) {
      run.epochs.push(log);
      this.chart.addEpoch(log);
      if (early.active) this.esStatus.textContent = earlyStoppingLine(early.monitor, early.patience, early.update(log));
    }
    run.curvePoints = this.chart.pointCounts();
    run.resumedAfterEpoch = saved?.epochs.length;
    this.status.textContent = saved
      ? `Resuming the run saved after epoch ${saved.epochs.length} (compiling the GPU kernels)…`
      : `Building ${check.plan.name} for batch ${settings.batch} (compiling the GPU kernels)…`;
    try {
      const result = await runTraining(trainer, check.spec, settings, data, {
        onStarted: (model, fit) => {
          current.model = model;
          current.fit = fit;
          this.pauseButton.disabled = false;
          this.stopButton.disabled = false;
        },
        onStep: (e) => {
          run.steps.push(e);
          this.chart.addStep(e);
          run.curvePoints = this.chart.pointCounts();
          this.progress.value = (e.epoch - 1 + e.step / e.stepsPerEpoch) / settings.epochs;
          if (!current.stopping) this.status.textContent = `${current.fit?.paused ? 'Paused. ' : ''}${stepLine(e, settings.epochs, settings.batch)}`;
        },
        onEpochEnd: (log) => {
          run.epochs.push(log);
          this.chart.addEpoch(log);
          run.curvePoints = this.chart.pointCounts();
          this.progress.value = log.epoch / settings.epochs;
          this.status.textContent = epochLine(log, settings.epochs);
          if (early.active) this.esStatus.textContent = earlyStoppingLine(early.monitor, early.patience, early.update(log));
        },
        onCheckpoint: (bytes, fitState) => {
          // What a reload or a closed tab continues from (forgotten once the run ends).
          const record: StoredRun = { settings, spec: check.spec, checkpoint: bytes, epochs: fitState.history.epochs, savedAt: new Date().toISOString() };
          this.runRecord = this.runRecord.then(() =>
            saveRun(record).then(
              () => void (run.savedEpoch = fitState.epoch),
              (error: unknown) => recordError(`could not keep the run in this browser: ${errorText(error)}`),
            ),
          );
        },
        onRecovering: (recovery) => {
          run.recoveries.push(recovery);
          const from = recovery.resumedFrom.step > 0 ? `step ${recovery.resumedFrom.step} of epoch ${recovery.resumedFrom.epoch + 1}` : `the end of epoch ${recovery.resumedFrom.epoch}`;
          this.status.textContent = `The GPU device was lost (${recovery.reason}) in epoch ${recovery.lostAfter.epoch}; continuing on a new device from ${from}…`;
        },
        onEvaluating: () => {
          setPhase('evaluating');
          this.status.textContent = `Evaluating on ${Math.min(settings.testLimit, data.test.count).toLocaleString('en-US')} test images…`;
        },
      }, saved?.checkpoint);
      // The run ended (done, stopped early or on request): there is nothing left to continue.
      this.runRecord = this.runRecord.then(() => forgetRun().catch((error: unknown) => recordError(`could not forget the finished run: ${errorText(error)}`)));
      await this.runRecord;
      const { history, evaluation, test } = result;
      run.stopReason = history.stopReason;
      run.notes = history.notes;
      const { mistakes } = await renderResults(evaluation, test);
      const { report } = evaluation;
      state.evaluation = { count: report.count, accuracy: evaluation.accuracy, loss: evaluation.loss, macroAuc: report.macroAuc, confusion: report.confusion, mistakes, seconds: evaluation.seconds };
      const last = history.epochs.at(-1);
      const how = history.stopReason === 'completed' ? 'Training complete' : history.stopReason === 'early-stopping' ? 'Stopped early' : 'Stopped on request';
      const survived = history.recoveries?.length ? ` Survived ${history.recoveries.length} lost device(s).` : '';
      this.status.textContent = `${how} after ${history.epochs.length} epoch(s)${last ? `: ${epochLine(last, settings.epochs)}` : ''}.${survived}`;
      if (history.notes.length) this.esStatus.textContent = history.notes.join('; ') + '.';
      this.progress.value = 1;
      // The run is over before its model takes the slot, so the pad's drawing is classified by it now.
      this.run = undefined;
      this.deps.slot.set({ model: result.model, source: 'trained here', epoch: history.bestEpoch ?? history.epochs.length });
      setPhase('trained');
      this.deps.onTrained(settings);
    } catch (error) {
      this.status.textContent = `Training failed: ${errorText(error)}`;
      recordError(errorText(error));
      setPhase('error');
    } finally {
      this.run = undefined;
      this.setRunning(false);
      this.validate();
    }
  }
}

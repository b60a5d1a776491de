/**
 * The model card: a preset picker and an editable JSON spec. Every edit is
 * parsed and run through shape inference (the same inferShapes the engine
 * uses), so the summary and parameter count are always those of the text on
 * screen, and an impossible spec shows the SpecError's message (which names
 * the layer, the shapes and the fix) instead of failing later on the GPU.
 */
import { formatSummary, inferShapes, presets, SpecError, type ModelPlan, type ModelSpec } from '../../src/index.ts';
import { showMessage } from './dom.ts';

export interface SpecEditorElements {
  preset: HTMLSelectElement;
  json: HTMLTextAreaElement;
  error: HTMLElement;
  summary: HTMLElement;
  paramCount: HTMLElement;
}

export type SpecCheck = { ok: true; spec: ModelSpec; plan: ModelPlan } | { ok: false; message: string };

/** Parses and shape-checks spec text at a batch size. */
export function checkSpecText(text: string, batch: number): SpecCheck {
  let spec: ModelSpec;
  try {
    spec = JSON.parse(text) as ModelSpec;
  } catch (error) {
    return { ok: false, message: `The spec is not valid JSON: ${(error as Error).message}` };
  }
  try {
    return { ok: true, spec, plan: inferShapes(spec, batch) };
  } catch (error) {
    if (error instanceof SpecError) return { ok: false, message: `SpecError: ${error.message}` };
    return { ok: false, message: `The spec could not be read: ${String(error)}` };
  }
}

export class SpecEditor {
  private check: SpecCheck = { ok: false, message: 'no spec yet' };

  constructor(
    private readonly ui: SpecEditorElements,
    private readonly batch: () => number,
    /** Called after every re-check (the page enables Train only on a valid spec). */
    private readonly onChange: (check: SpecCheck, presetChanged: string | undefined) => void,
  ) {
    ui.preset.addEventListener('change', () => this.selectPreset(ui.preset.value, true));
    ui.json.addEventListener('input', () => {
      ui.preset.value = this.matchingPreset() ?? 'custom';
      this.refresh();
    });
  }

  /** Loads a preset's spec into the editor ('custom' keeps the text). */
  selectPreset(name: string, announce = false): void {
    const spec = presets[name];
    this.ui.preset.value = spec ? name : 'custom';
    if (spec) this.ui.json.value = JSON.stringify(spec, null, 2);
    this.refresh(announce && spec ? name : undefined);
  }

  /** Shows a spec that came from elsewhere (a loaded checkpoint). */
  showSpec(spec: ModelSpec): void {
    this.ui.json.value = JSON.stringify(spec, null, 2);
    this.ui.preset.value = this.matchingPreset() ?? 'custom';
    this.refresh();
  }

  /** Re-checks the text, e.g. after the batch size changed. */
  refresh(presetChanged?: string): void {
    this.check = checkSpecText(this.ui.json.value, Math.max(1, Math.floor(this.batch()) || 1));
    if (this.check.ok) {
      showMessage(this.ui.error, undefined);
      this.ui.summary.textContent = formatSummary(this.check.plan);
      this.ui.paramCount.textContent = `${this.check.plan.paramCount.toLocaleString('en-US')} trainable parameters, ${this.check.plan.layers.length} layers`;
    } else {
      showMessage(this.ui.error, this.check.message);
      this.ui.summary.textContent = '';
      this.ui.paramCount.textContent = '';
    }
    this.onChange(this.check, presetChanged);
  }

  get current(): SpecCheck {
    return this.check;
  }

  get presetName(): string {
    return this.ui.preset.value;
  }

  private matchingPreset(): string | undefined {
    let parsed: unknown;
    try {
      parsed = JSON.parse(this.ui.json.value);
    } catch {
      return undefined;
    }
    const text = JSON.stringify(parsed);
    return Object.keys(presets).find((name) => JSON.stringify(presets[name]) === text);
  }
}

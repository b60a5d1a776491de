/**
 * The drawing card: every stroke is preprocessed like MNIST (digit-preprocess.ts),
 * shown as the 28x28 image the model sees, and classified with the engine's
 * predict (which pads the one image to the model's batch); the class
 * probabilities appear as bars. Predictions wait while a run trains, because
 * the evaluation pass shares the model's buffers with training.
 */
import { predict } from '../src/index.ts';
import { inkFromRgba, preprocessDigit } from './digit-preprocess.ts';
import { LatestOnly } from './latest-only.ts';
import type { ModelSlot } from './model-slot.ts';
import { recordError, state } from './page-state.ts';
import { paintGray } from './ui/digits.ts';
import { byId, errorText } from './ui/dom.ts';
import { renderProbabilityBars } from './ui/probability-bars.ts';
import { SketchPad } from './ui/sketch-pad.ts';

export class PredictPanel {
  private readonly text = byId('prediction', HTMLElement);
  private readonly bars = byId('bars', HTMLElement);
  private readonly preview = byId('pad-preview', HTMLCanvasElement);
  private readonly pad: SketchPad;
  private readonly predictor: LatestOnly;
  private count = 0;
  private hasInk = false;

  constructor(
    private readonly slot: ModelSlot,
    private readonly busy: () => boolean,
  ) {
    this.predictor = new LatestOnly(
      () => this.predictNow(),
      (error) => {
        this.text.textContent = `Prediction failed: ${errorText(error)}`;
        recordError(errorText(error));
      },
      (busy) => {
        state.predicting = busy;
      },
    );
    this.pad = new SketchPad(byId('pad', HTMLCanvasElement), (reason) => {
      this.hasInk = reason !== 'clear';
      this.predictor.request();
    });
    byId('clear-pad', HTMLButtonElement).addEventListener('click', () => this.pad.clear());
    slot.onChange(() => this.refresh());
    this.refresh();
  }

  /** Re-predicts the drawing (after training, or when the model changed). */
  refresh(): void {
    this.predictor.request();
  }

  /** Puts a 28x28 image (a test digit) on the pad. */
  showImage(image: Uint8Array): void {
    this.pad.paintImage(image);
  }

  private async predictNow(): Promise<void> {
    const rgba = this.pad.pixels();
    const image = this.hasInk ? preprocessDigit(inkFromRgba(rgba.data, rgba.width, rgba.height), rgba.width, rgba.height) : undefined;
    paintGray(this.preview, image ?? new Uint8Array(28 * 28), 28, 28);
    const current = this.slot.current;
    if (!image) {
      this.bars.replaceChildren();
      this.text.textContent = current ? 'Draw a digit with the mouse or a finger.' : 'Draw a digit; train or load a model to classify it.';
      return;
    }
    if (!current) {
      this.text.textContent = 'Train a model or load a checkpoint to classify your drawing.';
      return;
    }
    if (this.busy()) {
      this.text.textContent = 'Training is using the GPU; the drawing is classified when it finishes.';
      return;
    }
    const { probabilities, classes } = await predict(current.model, image, 1);
    const row = Array.from(probabilities.subarray(0, current.model.plan.outputClasses));
    const digit = classes[0];
    renderProbabilityBars(this.bars, row);
    this.text.textContent = `It looks like a ${digit} (${(row[digit] * 100).toFixed(1)}%).`;
    state.prediction = { digit, probabilities: row, count: ++this.count };
  }
}

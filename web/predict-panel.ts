/**
 * The drawing card: every stroke is preprocessed like MNIST (digit-preprocess.ts),
 * shown as the 28x28 image the model sees, and classified in the training
 * worker with the engine's predict (which pads the one image to the model's
 * batch); the class probabilities appear as bars. While a run trains, the
 * model being trained classifies the drawing: its predict takes a turn
 * between two training submits, so the answer comes at once and training
 * goes on unchanged.
 */
import type { RemoteModel } from '../src/worker/index.ts';
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
    /** The model under training, while a run's fit is under way. */
    private readonly trainingModel: () => RemoteModel | undefined,
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
    const training = this.trainingModel();
    const model = training ?? this.slot.current?.model;
    if (!image) {
      this.bars.replaceChildren();
      this.text.textContent = model ? 'Draw a digit with the mouse or a finger.' : 'Draw a digit; train or load a model to classify it.';
      return;
    }
    if (!model) {
      this.text.textContent = 'Train a model or load a checkpoint to classify your drawing.';
      return;
    }
    const { probabilities, classes } = await model.predict(image, 1);
    const row = Array.from(probabilities.subarray(0, model.outputClasses));
    const digit = classes[0];
    renderProbabilityBars(this.bars, row);
    this.text.textContent = `It looks like a ${digit} (${(row[digit] * 100).toFixed(1)}%)${training ? ', says the model in training' : ''}.`;
    state.prediction = { digit, probabilities: row, count: ++this.count, byTrainingModel: training !== undefined };
  }
}

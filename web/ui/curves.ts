/**
 * Live loss and accuracy curves on one canvas, two panels side by side.
 *
 * x is training progress in epochs: a step event at step s of S in epoch e
 * sits at e - 1 + s/S and carries the running mean over that epoch so far
 * (what fit's onStep reports); the epoch-end train value and the validation
 * value sit at x = e. Train is solid blue, validation dashed orange; epoch
 * ends are dots. The chart is redrawn whole on each event (a few hundred
 * points at most), which keeps the code free of incremental state.
 */
import type { EpochLog, StepEvent } from '../../src/index.ts';
import { context2d } from './dom.ts';

interface Point {
  x: number;
  y: number;
  /** Lines break where this changes (running means restart each epoch). */
  group: number;
}

interface Panel {
  title: string;
  stepSeries: Point[];
  train: Point[];
  validation: Point[];
  /** Fixed y range, or undefined to fit the data. */
  range?: [number, number];
}

const COLORS = { train: '#1f77b4', validation: '#ff7f0e', axis: '#9aa3b2', text: '#3b4252' };
const PAD = { left: 44, right: 12, top: 24, bottom: 30 };
const CSS_WIDTH = 720;
const CSS_HEIGHT = 260;

export class CurvesChart {
  private epochs = 1;
  private readonly loss: Panel = { title: 'loss', stepSeries: [], train: [], validation: [] };
  private readonly accuracy: Panel = { title: 'accuracy', stepSeries: [], train: [], validation: [] };
  private readonly ctx: CanvasRenderingContext2D;
  /** A redraw is booked for the next frame: many step events between two frames cost one draw. */
  private drawBooked = false;

  constructor(private readonly canvas: HTMLCanvasElement) {
    const dpr = Math.min(2, globalThis.devicePixelRatio || 1);
    canvas.width = CSS_WIDTH * dpr;
    canvas.height = CSS_HEIGHT * dpr;
    this.ctx = context2d(canvas);
    this.ctx.scale(dpr, dpr);
    this.draw();
  }

  reset(totalEpochs: number): void {
    this.epochs = Math.max(1, totalEpochs);
    for (const p of [this.loss, this.accuracy]) {
      p.stepSeries.length = 0;
      p.train.length = 0;
      p.validation.length = 0;
    }
    this.redraw();
  }

  addStep(e: StepEvent): void {
    const x = e.epoch - 1 + e.step / e.stepsPerEpoch;
    this.loss.stepSeries.push({ x, y: e.loss, group: e.epoch });
    this.accuracy.stepSeries.push({ x, y: e.accuracy, group: e.epoch });
    this.redraw();
  }

  addEpoch(log: EpochLog): void {
    this.loss.train.push({ x: log.epoch, y: log.loss, group: 0 });
    this.accuracy.train.push({ x: log.epoch, y: log.accuracy, group: 0 });
    if (log.valLoss !== undefined) this.loss.validation.push({ x: log.epoch, y: log.valLoss, group: 0 });
    if (log.valAccuracy !== undefined) this.accuracy.validation.push({ x: log.epoch, y: log.valAccuracy, group: 0 });
    this.epochs = Math.max(this.epochs, log.epoch);
    this.redraw();
  }

  private redraw(): void {
    if (this.drawBooked) return;
    this.drawBooked = true;
    requestAnimationFrame(() => {
      this.drawBooked = false;
      this.draw();
    });
  }

  /** Points drawn so far, per panel and series (for tests and the page state). */
  pointCounts(): { loss: number; accuracy: number; validation: number } {
    return {
      loss: this.loss.stepSeries.length + this.loss.train.length,
      accuracy: this.accuracy.stepSeries.length + this.accuracy.train.length,
      validation: this.loss.validation.length,
    };
  }

  private draw(): void {
    const { ctx } = this;
    ctx.clearRect(0, 0, CSS_WIDTH, CSS_HEIGHT);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, CSS_WIDTH, CSS_HEIGHT);
    this.drawPanel(this.loss, 0, CSS_WIDTH / 2);
    this.drawPanel(this.accuracy, CSS_WIDTH / 2, CSS_WIDTH / 2);
  }

  private drawPanel(panel: Panel, x0: number, width: number): void {
    const { ctx } = this;
    const ys = [...panel.stepSeries, ...panel.train, ...panel.validation].map((p) => p.y).filter(Number.isFinite);
    let [lo, hi] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
    if (panel === this.loss) lo = Math.min(0, lo);
    if (panel === this.accuracy) hi = Math.max(hi, Math.min(1, hi + 0.02));
    if (hi - lo < 1e-6) [lo, hi] = [lo - 0.5, hi + 0.5];
    const w = width - PAD.left - PAD.right;
    const h = CSS_HEIGHT - PAD.top - PAD.bottom;
    const px = (x: number): number => x0 + PAD.left + (x / this.epochs) * w;
    const py = (y: number): number => PAD.top + (1 - (y - lo) / (hi - lo)) * h;

    ctx.font = 'bold 13px system-ui, sans-serif';
    ctx.fillStyle = COLORS.text;
    ctx.textAlign = 'center';
    ctx.fillText(panel.title, x0 + width / 2, 16);
    ctx.strokeStyle = COLORS.axis;
    ctx.lineWidth = 1;
    ctx.setLineDash([]);
    ctx.strokeRect(x0 + PAD.left, PAD.top, w, h);
    ctx.font = '10px system-ui, sans-serif';
    ctx.textAlign = 'right';
    for (let t = 0; t <= 4; t++) {
      const v = lo + ((hi - lo) * t) / 4;
      ctx.fillText(v.toPrecision(3), x0 + PAD.left - 4, py(v) + 3);
    }
    ctx.textAlign = 'center';
    const tickEvery = Math.max(1, Math.ceil(this.epochs / 10));
    for (let e = 0; e <= this.epochs; e += tickEvery) ctx.fillText(String(e), px(e), PAD.top + h + 12);
    ctx.fillText('epoch', x0 + PAD.left + w / 2, CSS_HEIGHT - 4);

    this.line(panel.stepSeries, px, py, COLORS.train, [], 1.5);
    this.line(panel.validation, px, py, COLORS.validation, [5, 3], 2);
    this.dots(panel.train, px, py, COLORS.train);
    this.dots(panel.validation, px, py, COLORS.validation);

    ctx.textAlign = 'left';
    ctx.fillStyle = COLORS.train;
    ctx.fillText('train (running mean)', x0 + PAD.left + 6, PAD.top + 12);
    ctx.fillStyle = COLORS.validation;
    ctx.fillText('validation', x0 + PAD.left + 6, PAD.top + 24);
  }

  private line(points: Point[], px: (x: number) => number, py: (y: number) => number, color: string, dash: number[], width: number): void {
    const { ctx } = this;
    const finite = points.filter((p) => Number.isFinite(p.y));
    if (finite.length < 2) return;
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.setLineDash(dash);
    ctx.beginPath();
    finite.forEach((p, i) => (i === 0 || finite[i - 1].group !== p.group ? ctx.moveTo(px(p.x), py(p.y)) : ctx.lineTo(px(p.x), py(p.y))));
    ctx.stroke();
    ctx.setLineDash([]);
  }

  private dots(points: Point[], px: (x: number) => number, py: (y: number) => number, color: string): void {
    const { ctx } = this;
    ctx.fillStyle = color;
    for (const p of points) {
      if (!Number.isFinite(p.y)) continue;
      ctx.beginPath();
      ctx.arc(px(p.x), py(p.y), 3.5, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
}

/**
 * A canvas to draw a digit on with a mouse, pen or finger (pointer events, so
 * one code path for all three; `touch-action: none` in the CSS keeps a finger
 * from scrolling the page). Ink is white on a transparent canvas shown on
 * black, like MNIST; strokes are round and about a tenth of the pad wide, so a
 * digit drawn to fill the pad has MNIST's stroke width once scaled to 20 px.
 */
import { MNIST_SIDE } from '../digit-preprocess.ts';
import { context2d } from './dom.ts';

export class SketchPad {
  private readonly ctx: CanvasRenderingContext2D;
  private last: { x: number; y: number } | undefined;
  private drawing = false;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    /** Called while drawing (every move) and after clear. */
    private readonly onChange: (reason: 'stroke' | 'end' | 'clear') => void,
  ) {
    this.ctx = context2d(canvas, { willReadFrequently: true });
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    canvas.addEventListener('pointerup', () => this.up());
    canvas.addEventListener('pointercancel', () => this.up());
  }

  clear(): void {
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.onChange('clear');
  }

  /** RGBA pixels of the pad. */
  pixels(): ImageData {
    return this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height);
  }

  /** Paints a 28x28 image (e.g. a test digit) enlarged onto the pad, replacing what is there. */
  paintImage(image: Uint8Array): void {
    const { width, height } = this.canvas;
    const small = new ImageData(MNIST_SIDE, MNIST_SIDE);
    for (let i = 0; i < MNIST_SIDE * MNIST_SIDE; i++) small.data.set([255, 255, 255, image[i]], 4 * i);
    const tmp = document.createElement('canvas');
    tmp.width = MNIST_SIDE;
    tmp.height = MNIST_SIDE;
    context2d(tmp).putImageData(small, 0, 0);
    this.ctx.clearRect(0, 0, width, height);
    this.ctx.imageSmoothingEnabled = true;
    this.ctx.drawImage(tmp, 0, 0, width, height);
    this.onChange('end');
  }

  private point(e: PointerEvent): { x: number; y: number } {
    const rect = this.canvas.getBoundingClientRect();
    return { x: ((e.clientX - rect.left) / rect.width) * this.canvas.width, y: ((e.clientY - rect.top) / rect.height) * this.canvas.height };
  }

  private down(e: PointerEvent): void {
    e.preventDefault();
    this.canvas.setPointerCapture(e.pointerId);
    this.drawing = true;
    this.last = this.point(e);
    this.stroke(this.last, this.last);
  }

  private move(e: PointerEvent): void {
    if (!this.drawing || !this.last) return;
    const p = this.point(e);
    this.stroke(this.last, p);
    this.last = p;
  }

  private up(): void {
    if (!this.drawing) return;
    this.drawing = false;
    this.last = undefined;
    this.onChange('end');
  }

  private stroke(from: { x: number; y: number }, to: { x: number; y: number }): void {
    const { ctx } = this;
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = this.canvas.width / 12;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
    this.onChange('stroke');
  }
}

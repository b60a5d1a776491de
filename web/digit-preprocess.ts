/**
 * Turns a drawing into an MNIST-like 28x28 image, the way MNIST itself was
 * made (LeCun et al.): the bounding box of the ink is scaled, preserving its
 * aspect ratio, so that its longer side is 20 pixels, with anti-aliasing
 * (here: exact area averaging, a box filter); the result is placed in a 28x28
 * field so that its centre of mass lies at the field's centre. Grayscale 0..255,
 * white ink on black, row-major, one byte per pixel, as the IDX files store it.
 *
 * Pure functions on arrays, so they are tested in Node without a canvas.
 */

export const MNIST_SIDE = 28;
export const MNIST_BOX = 20;

/** Ink per pixel (0..255) from RGBA canvas data: alpha times brightness, so both white-on-transparent and white-on-black work. */
export function inkFromRgba(rgba: ArrayLike<number>, width: number, height: number): Uint8Array {
  const ink = new Uint8Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const brightness = (rgba[4 * i] + rgba[4 * i + 1] + rgba[4 * i + 2]) / 3;
    ink[i] = Math.round((brightness * rgba[4 * i + 3]) / 255);
  }
  return ink;
}

interface Box {
  x0: number;
  y0: number;
  w: number;
  h: number;
}

/** The smallest rectangle holding every pixel with ink above `threshold`, or undefined if there is none. */
export function inkBoundingBox(ink: ArrayLike<number>, width: number, height: number, threshold = 0): Box | undefined {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return x1 < 0 ? undefined : { x0, y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/**
 * Area-averaging weights from a source axis of `from` pixels to `to` pixels:
 * destination pixel j covers source [j*from/to, (j+1)*from/to) and averages
 * the source pixels by their overlap.
 */
function axisWeights(from: number, to: number): { index: number; weight: number }[][] {
  const span = from / to;
  return Array.from({ length: to }, (_, j) => {
    const start = j * span;
    const end = start + span;
    const taps: { index: number; weight: number }[] = [];
    for (let i = Math.floor(start); i < Math.min(from, Math.ceil(end)); i++) {
      const overlap = Math.min(end, i + 1) - Math.max(start, i);
      if (overlap > 1e-9) taps.push({ index: i, weight: overlap / span });
    }
    return taps;
  });
}

/** Box-filter resample of a region of `ink` (row stride `stride`) to `tw x th`, as floats. */
function resample(ink: ArrayLike<number>, stride: number, box: Box, tw: number, th: number): Float64Array {
  const wx = axisWeights(box.w, tw);
  const wy = axisWeights(box.h, th);
  const rows = new Float64Array(box.h * tw);
  for (let y = 0; y < box.h; y++) {
    const base = (box.y0 + y) * stride + box.x0;
    for (let x = 0; x < tw; x++) {
      let sum = 0;
      for (const t of wx[x]) sum += ink[base + t.index] * t.weight;
      rows[y * tw + x] = sum;
    }
  }
  const out = new Float64Array(th * tw);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      let sum = 0;
      for (const t of wy[y]) sum += rows[t.index * tw + x] * t.weight;
      out[y * tw + x] = sum;
    }
  }
  return out;
}

/**
 * MNIST-style 28x28 bytes from per-pixel ink (width x height, 0..255), or
 * undefined when there is no ink. The brightest pixel is stretched to 255, as
 * MNIST strokes are, so a faint or thin drawing still looks like a digit.
 */
export function preprocessDigit(ink: ArrayLike<number>, width: number, height: number): Uint8Array | undefined {
  const box = inkBoundingBox(ink, width, height);
  if (!box) return undefined;
  const scale = MNIST_BOX / Math.max(box.w, box.h);
  const tw = Math.max(1, Math.min(MNIST_BOX, Math.round(box.w * scale)));
  const th = Math.max(1, Math.min(MNIST_BOX, Math.round(box.h * scale)));
  const small = resample(ink, width, box, tw, th);

  let mass = 0;
  let mx = 0;
  let my = 0;
  let peak = 0;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const v = small[y * tw + x];
      mass += v;
      mx += (x + 0.5) * v;
      my += (y + 0.5) * v;
      peak = Math.max(peak, v);
    }
  }
  if (mass <= 0) return undefined;
  // Shift so the centre of mass lands on the field's centre (14, 14), keeping the digit inside the field.
  const clamp = (v: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, v));
  const ox = clamp(Math.round(MNIST_SIDE / 2 - mx / mass), 0, MNIST_SIDE - tw);
  const oy = clamp(Math.round(MNIST_SIDE / 2 - my / mass), 0, MNIST_SIDE - th);
  const gain = 255 / peak;
  const out = new Uint8Array(MNIST_SIDE * MNIST_SIDE);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) out[(oy + y) * MNIST_SIDE + ox + x] = Math.round(clamp(small[y * tw + x] * gain, 0, 255));
  }
  return out;
}

/** Centre of mass (x, y) of a 28x28 image in pixel-centre coordinates, for checks. */
export function centreOfMass(image: ArrayLike<number>, side = MNIST_SIDE): [number, number] {
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const v = image[y * side + x];
      mass += v;
      mx += (x + 0.5) * v;
      my += (y + 0.5) * v;
    }
  }
  return mass > 0 ? [mx / mass, my / mass] : [side / 2, side / 2];
}

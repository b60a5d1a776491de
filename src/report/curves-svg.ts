/**
 * Loss and accuracy curves per epoch as a standalone SVG (two panels: loss,
 * accuracy; train solid, validation dashed). No dependencies, so the CLI can
 * write it anywhere and a browser can show it as is.
 */
import type { EpochLog } from '../engine/fit.ts';

interface Series {
  name: string;
  values: (number | undefined)[];
  color: string;
  dashed: boolean;
}

const WIDTH = 360;
const HEIGHT = 240;
const PAD = { left: 48, right: 12, top: 28, bottom: 32 };

function panel(title: string, series: Series[], x0: number): string {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== undefined && Number.isFinite(v)));
  const n = Math.max(...series.map((s) => s.values.length), 1);
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  if (hi - lo < 1e-9) [lo, hi] = [lo - 0.5, hi + 0.5];
  const w = WIDTH - PAD.left - PAD.right;
  const h = HEIGHT - PAD.top - PAD.bottom;
  const px = (i: number): number => x0 + PAD.left + (n === 1 ? w / 2 : (i / (n - 1)) * w);
  const py = (v: number): number => PAD.top + (1 - (v - lo) / (hi - lo)) * h;
  const parts = [
    `<text x="${x0 + WIDTH / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${title}</text>`,
    `<rect x="${x0 + PAD.left}" y="${PAD.top}" width="${w}" height="${h}" fill="none" stroke="#999"/>`,
  ];
  for (let t = 0; t <= 4; t++) {
    const v = lo + ((hi - lo) * t) / 4;
    parts.push(`<text x="${x0 + PAD.left - 4}" y="${py(v) + 4}" text-anchor="end" font-size="10">${v.toPrecision(3)}</text>`);
  }
  for (let i = 0; i < n; i++) parts.push(`<text x="${px(i)}" y="${HEIGHT - 14}" text-anchor="middle" font-size="10">${i + 1}</text>`);
  parts.push(`<text x="${x0 + WIDTH / 2}" y="${HEIGHT - 2}" text-anchor="middle" font-size="10">epoch</text>`);
  series.forEach((s, k) => {
    const points = s.values.map((v, i) => (v === undefined || !Number.isFinite(v) ? '' : `${px(i).toFixed(1)},${py(v).toFixed(1)}`)).filter(Boolean);
    if (points.length > 0) {
      parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ''} points="${points.join(' ')}"/>`);
    }
    parts.push(`<text x="${x0 + PAD.left + 6}" y="${PAD.top + 14 + 12 * k}" font-size="10" fill="${s.color}">${s.name}</text>`);
  });
  return parts.join('\n');
}

export function curvesSvg(epochs: EpochLog[], title = 'training'): string {
  const get = (key: keyof EpochLog): (number | undefined)[] => epochs.map((e) => e[key] as number | undefined);
  const loss = panel(`${title}: loss`, [
    { name: 'train', values: get('loss'), color: '#1f77b4', dashed: false },
    { name: 'validation', values: get('valLoss'), color: '#ff7f0e', dashed: true },
  ], 0);
  const accuracy = panel(`${title}: accuracy`, [
    { name: 'train', values: get('accuracy'), color: '#1f77b4', dashed: false },
    { name: 'validation', values: get('valAccuracy'), color: '#ff7f0e', dashed: true },
  ], WIDTH);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * WIDTH}" height="${HEIGHT}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${loss}\n${accuracy}\n</svg>\n`;
}

export function historyCsv(epochs: EpochLog[]): string {
  const header = 'epoch,loss,accuracy,val_loss,val_accuracy,steps,seconds,samples_per_second';
  const rows = epochs.map((e) => [e.epoch, e.loss, e.accuracy, e.valLoss ?? '', e.valAccuracy ?? '', e.steps, e.seconds.toFixed(3), e.samplesPerSecond.toFixed(1)].join(','));
  return `${[header, ...rows].join('\n')}\n`;
}

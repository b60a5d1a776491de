/**
 * A Keras-style model summary: one row per layer with its display name and
 * class, output shape (batch shown as None, then channels-first [C, H, W] or
 * [F]) and parameter count, then the totals. Numbers use thousands
 * separators, as Keras prints them (61,706).
 */
import type { ModelPlan } from './infer.ts';

const withCommas = (n: number): string => n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');

export function formatSummary(plan: ModelPlan): string {
  const header = ['Layer (type)', 'Output Shape', 'Param #'];
  const rows = plan.layers.map((l) => [`${l.name} (${l.className})`, `(None, ${l.outputShape.join(', ')})`, withCommas(l.paramCount)]);
  const widths = [0, 1].map((c) => Math.max(header[c].length, ...rows.map((r) => r[c].length)) + 4);
  const line = (cells: string[]): string => ` ${cells[0].padEnd(widths[0])}${cells[1].padEnd(widths[1])}${cells[2]}`;
  const width = widths[0] + widths[1] + Math.max(header[2].length, ...rows.map((r) => r[2].length)) + 2;
  const thin = '_'.repeat(width);
  const thick = '='.repeat(width);
  const body = rows.map((r, i) => line(r) + (i < rows.length - 1 ? `\n${thin}` : ''));
  return [
    `Model: "${plan.name}"`,
    thin,
    line(header),
    thick,
    ...body,
    thick,
    `Total params: ${withCommas(plan.paramCount)}`,
    `Trainable params: ${withCommas(plan.paramCount)}`,
    'Non-trainable params: 0',
    `Input: (None, ${plan.inputShape.join(', ')}); shapes are channels-first (NCHW)`,
    thin,
  ].join('\n');
}

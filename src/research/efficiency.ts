/**
 * Parameter efficiency of any spec: per layer and in total, its parameters
 * and its forward FLOPs per sample, beside its accuracy when one is known.
 *
 * FLOPs follow the usual "model FLOPs" convention of src/model/flops.ts:
 * the multiply-adds of conv2d and dense layers, x2 (a multiply and an add).
 * Pooling, activations, bias adds and the softmax are not counted (they are a
 * few percent of LeNet-5's work and none of them is a multiply-add chain);
 * their rows show 0. Classic LeNet-5: 61,706 parameters, 833,040 forward
 * FLOPs per 28x28 image.
 */
import { layerMacs } from '../model/flops.ts';
import { inferShapes } from '../model/infer.ts';
import type { ModelSpec } from '../model/spec.ts';

export interface LayerEfficiency {
  name: string;
  /** Keras class name, e.g. Conv2D. */
  className: string;
  outputShape: number[];
  parameters: number;
  forwardMacs: number;
  forwardFlops: number;
  /** Fractions of the model's totals (0..1). */
  parameterShare: number;
  flopShare: number;
}

export interface EfficiencyResult {
  /** Test accuracy in 0..1. */
  accuracy: number;
  macroAuc?: number;
  /** Test images the accuracy was measured on. */
  count?: number;
  /** Where the figure comes from, e.g. a checkpoint path. */
  source?: string;
}

export interface EfficiencyReport {
  name: string;
  inputShape: [number, number, number];
  layers: LayerEfficiency[];
  parameters: number;
  forwardMacs: number;
  forwardFlops: number;
  result?: EfficiencyResult;
}

export function efficiencyReport(spec: ModelSpec, result?: EfficiencyResult): EfficiencyReport {
  const plan = inferShapes(spec, 1);
  const macs = plan.layers.map(layerMacs);
  const totalMacs = macs.reduce((a, b) => a + b, 0);
  const layers = plan.layers.map((l, i) => ({
    name: l.name,
    className: l.className,
    outputShape: l.outputShape,
    parameters: l.paramCount,
    forwardMacs: macs[i],
    forwardFlops: 2 * macs[i],
    parameterShare: plan.paramCount > 0 ? l.paramCount / plan.paramCount : 0,
    flopShare: totalMacs > 0 ? macs[i] / totalMacs : 0,
  }));
  return { name: plan.name, inputShape: plan.inputShape, layers, parameters: plan.paramCount, forwardMacs: totalMacs, forwardFlops: 2 * totalMacs, result };
}

const int = (n: number): string => n.toLocaleString('en-US');
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** The report as a markdown table with a totals row, and the accuracy line when there is one. */
export function formatEfficiency(report: EfficiencyReport): string {
  const lines = [
    `### ${report.name}: parameters and forward FLOPs per sample (input ${report.inputShape.join('x')})`,
    '',
    '| layer | type | output | parameters | share | forward FLOPs | share |',
    '|---|---|---|---:|---:|---:|---:|',
    ...report.layers.map((l) => `| ${l.name} | ${l.className} | ${l.outputShape.join('x')} | ${int(l.parameters)} | ${pct(l.parameterShare)} | ${int(l.forwardFlops)} | ${pct(l.flopShare)} |`),
    `| **total** | | | **${int(report.parameters)}** | 100% | **${int(report.forwardFlops)}** | 100% |`,
    '',
    'FLOPs: conv2d and dense multiply-adds x2; pooling, activations, biases and softmax not counted.',
  ];
  const r = report.result;
  if (r) {
    const auc = r.macroAuc === undefined || Number.isNaN(r.macroAuc) ? '' : `, macro AUC ${r.macroAuc.toFixed(4)}`;
    const count = r.count ? ` on ${int(r.count)} test images` : '';
    lines.push(
      '',
      `Test accuracy ${(100 * r.accuracy).toFixed(2)}%${count}${auc}${r.source ? ` (${r.source})` : ''}: ` +
        `${int(report.parameters)} parameters and ${(report.forwardFlops / 1e6).toFixed(3)} MFLOPs per image for ${(100 * (1 - r.accuracy)).toFixed(2)}% error.`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function efficiencyCsv(report: EfficiencyReport): string {
  const rows = report.layers.map((l) => [l.name, l.className, l.outputShape.join('x'), l.parameters, l.forwardMacs, l.forwardFlops].join(','));
  return `${['layer,type,output,parameters,forward_macs,forward_flops', ...rows, `total,,,${report.parameters},${report.forwardMacs},${report.forwardFlops}`].join('\n')}\n`;
}

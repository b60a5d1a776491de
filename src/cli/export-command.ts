/**
 * `lenet-gpu export`: a checkpoint's weights as a TensorFlow.js Layers model,
 * an ONNX file or a safetensors file, each carrying the checkpoint's run
 * card. Reads the checkpoint on the CPU: no GPU needed.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { decodeCheckpoint } from '../engine/checkpoint.ts';
import { INTEROP_FORMATS, writeTfjsFolder, type InteropFormat } from '../interop/files.ts';
import { exportOnnx } from '../interop/onnx.ts';
import { exportSafetensors } from '../interop/safetensors.ts';
import { exportTfjsLayers } from '../interop/tfjs-layers.ts';
import { writeFileAtomic } from '../util/node-files.ts';
import { runCardFromCheckpoint } from '../engine/run-card.ts';
import { parseFlags, UsageError } from './options.ts';

export const EXPORT_USAGE = `usage: lenet-gpu export --checkpoint FILE --format tfjs|onnx|safetensors|all [--out PATH]

Exports a trained model with its run card (spec, seed, hyper-parameters, data split, adapter,
versions, final metrics, date). No GPU needed.

  tfjs         TensorFlow.js Layers model: PATH/model.json + PATH/group1-shard1of1.bin
               (default PATH <checkpoint folder>/tfjs). tf.loadLayersModel('.../model.json');
               input NHWC [N, 28, 28, 1] float32 = pixels / 255; run card in userDefinedMetadata
  onnx         one ONNX file, opset 13 (default PATH <checkpoint>.onnx);
               input "input" NCHW [N, 1, 28, 28] = pixels / 255, output "output" [N, 10]
  safetensors  the weights in the engine's layout (conv OIHW, dense [in, out]), named
               <layer>.kernel / <layer>.bias, spec and run card in __metadata__
               (default PATH <checkpoint>.safetensors)
  all          all three at their defaults (--out: the folder to put them in)
`;

export function runExportCommand(args: string[]): number {
  const { values: f, positionals } = parseFlags(args, { checkpoint: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' } } as const, EXPORT_USAGE);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\n\n${EXPORT_USAGE}`);
  if (!f.checkpoint) throw new UsageError(`--checkpoint is required\n\n${EXPORT_USAGE}`);
  const format = f.format;
  if (!format || (format !== 'all' && !INTEROP_FORMATS.includes(format as InteropFormat))) {
    throw new UsageError(`--format must be tfjs, onnx, safetensors or all, got ${format === undefined ? 'nothing' : `"${format}"`}\n\n${EXPORT_USAGE}`);
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(f.checkpoint));
  } catch (error) {
    throw new Error(`could not read the checkpoint ${f.checkpoint}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { header, params } = decodeCheckpoint(bytes, f.checkpoint);
  const runCard = runCardFromCheckpoint(header);
  const stem = join(dirname(f.checkpoint), basename(f.checkpoint, extname(f.checkpoint)));
  const formats = format === 'all' ? INTEROP_FORMATS : [format as InteropFormat];
  const base = format === 'all' && f.out ? join(f.out, basename(stem)) : stem;
  const pathOf = (kind: InteropFormat): string => {
    if (format !== 'all' && f.out) return f.out;
    if (kind === 'tfjs') return format === 'all' && f.out ? join(f.out, 'tfjs') : join(dirname(f.checkpoint!), 'tfjs');
    return `${base}.${kind}`;
  };
  const written: string[] = [];
  for (const kind of formats) {
    const path = pathOf(kind);
    if (kind === 'tfjs') written.push(...writeTfjsFolder(path, exportTfjsLayers(header.spec, params, runCard)));
    else {
      writeFileAtomic(path, kind === 'onnx' ? exportOnnx(header.spec, params, runCard) : exportSafetensors(header.spec, params, runCard));
      written.push(path);
    }
  }
  const accuracy = runCard.metrics.test ? `, test accuracy ${(100 * runCard.metrics.test.accuracy).toFixed(2)}%` : '';
  process.stdout.write(`exported ${header.spec.name ?? 'model'} (${params.length.toLocaleString('en-US')} parameters, epoch ${header.epoch}${accuracy}) to:\n${written.map((p) => `  ${p}\n`).join('')}`);
  return 0;
}

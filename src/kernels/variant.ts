/**
 * Kernel variants and the rule that picks one per adapter.
 *
 * - 'blocked': each invocation computes a small register block (e.g. 4x4
 *   outputs from vec4 loads), no workgroup memory, no barriers. CPU adapters
 *   such as SwiftShader run it 10x faster than tiling, because their barriers
 *   are costly and their "threads" are CPU lanes with large caches.
 * - 'tiled': workgroup-memory tiling with barriers: what real GPUs want.
 * - 'compact': the blocked variant's general kernels only (no sliding-window
 *   convolutions, 8-column dense blocks, one dense module for every layer):
 *   slower per step, but the quickest to compile on a CPU adapter, where
 *   compiling is most of a process that predicts a few images (LeNet-5's
 *   forward pass builds in 1.2 s instead of 3 s on SwiftShader). Never the
 *   default.
 *
 * Rule (documented; a timed trial can override it): CPU/fallback adapters get
 * 'blocked', everything else 'tiled'.
 */
import { isCpuAdapter, type AdapterReport } from '../gpu/device.ts';

export type KernelVariant = 'blocked' | 'tiled' | 'compact';

export const KERNEL_VARIANTS: readonly KernelVariant[] = ['blocked', 'tiled', 'compact'];

export function defaultVariant(report: Pick<AdapterReport, 'isFallback' | 'vendor' | 'architecture'>): KernelVariant {
  return isCpuAdapter(report) ? 'blocked' : 'tiled';
}

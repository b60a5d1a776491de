/**
 * Weight initialisation: CPU reference, also used by the GPU engine so both
 * start from identical weights.
 *
 * Glorot (Xavier) uniform, Keras's default kernel initializer:
 * uniform(-limit, limit) with limit = sqrt(6 / (fanIn + fanOut)).
 * Keras's fans: dense [in, out] has fanIn = in, fanOut = out; a conv kernel
 * (Cout, Cin, KH, KW) has fanIn = Cin*KH*KW and fanOut = Cout*KH*KW (the
 * receptive field counts on both sides).
 *
 * Values are drawn in the buffer's flat order (OIHW for conv, [in, out] for
 * dense), one rng.uniform per element, so a seed fixes every weight.
 */
import type { Rng } from '../util/random.ts';
import type { Vec } from '../util/vec.ts';

export function glorotLimit(fanIn: number, fanOut: number): number {
  return Math.sqrt(6 / (fanIn + fanOut));
}

export function glorotUniform(out: Vec, rng: Rng, fanIn: number, fanOut: number): void {
  const limit = glorotLimit(fanIn, fanOut);
  for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-limit, limit);
}

import { it } from 'vitest';
import { inferShapes } from '../../src/graph/infer.ts';
import { lenet5 } from '../../src/graph/spec.ts';
import { conv2dBackward, conv2dForward } from '../../src/reference/conv2d.ts';
import { denseBackward, denseForward } from '../../src/reference/dense.ts';
import { randomUniform, createRng } from '../../src/util/random.ts';
it('bench', () => {
  const plan = inferShapes(lenet5, 32);
  const rng = createRng(1);
  const time = (label: string, f: () => void) => { for (let i = 0; i < 3; i++) f(); const t = performance.now(); for (let i = 0; i < 10; i++) f(); console.log(label, ((performance.now() - t) / 10).toFixed(2), 'ms'); };
  for (const l of plan.layers) {
    if (l.conv) {
      const g = l.conv;
      const inp = randomUniform(rng, 32 * g.inChannels * g.inHeight * g.inWidth);
      const w = randomUniform(rng, g.outChannels * g.inChannels * g.kernelH * g.kernelW);
      const b = randomUniform(rng, g.outChannels);
      const out = new Float32Array(32 * g.outChannels * g.outHeight * g.outWidth);
      time(l.name + ' fwd', () => conv2dForward(out, inp, w, b, g));
      const dinp = new Float32Array(inp.length), dw = new Float32Array(w.length), db = new Float32Array(b.length);
      time(l.name + ' bwd no dinp', () => conv2dBackward(null, dw, db, out, inp, w, g));
      time(l.name + ' bwd', () => conv2dBackward(dinp, dw, db, out, inp, w, g));
    }
    if (l.dense) {
      const { inFeatures: I, outFeatures: O } = l.dense;
      const inp = randomUniform(rng, 32 * I), w = randomUniform(rng, I * O), b = randomUniform(rng, O), out = new Float32Array(32 * O);
      time(l.name + ' fwd', () => denseForward(out, inp, w, b, 32, I, O));
      const dinp = new Float32Array(inp.length), dw = new Float32Array(w.length), db = new Float32Array(O);
      time(l.name + ' bwd', () => denseBackward(dinp, dw, db, out, inp, w, 32, I, O));
    }
  }
});

/**
 * The browser trains with the same code as Node: the first 5 steps of LeNet-5
 * (batch 16, fixed seed, no shuffle, no validation) run through fit in Node
 * (Dawn) and in headless Chromium (its own Dawn), both on the adapter
 * LENET_GPU_ADAPTER chooses for both (test/helpers/browser.ts), from the same
 * MNIST bytes. Same kernels and adapter: the losses must agree to 1e-5
 * relative and every weight after 5 steps elementwise (allclose.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allClose, tolFor } from '../helpers/allclose.ts';
import { pageResult, startBrowserSession, type BrowserSession } from '../helpers/browser.ts';
import { testGpu } from '../helpers/gpu.ts';
import { realMnist } from '../helpers/mnist.ts';
import { PARITY, runParity, type ParityRun } from './fit-parity-run.ts';

describe('training in the browser matches training in Node', () => {
  let session: BrowserSession;
  beforeAll(async () => { session = await startBrowserSession(); });
  afterAll(async () => { await session?.close(); });

  it(`gives the same losses over the first ${PARITY.steps} steps and the same weights`, async () => {
    const gpu = await testGpu();
    const node = await runParity(gpu, (await realMnist()).train);
    const page = await session.openPage('/test/e2e/fit-parity.html');
    const browser = await pageResult<ParityRun & { error?: string; adapter: string }>(page, session);
    expect(browser.error, session.consoleLines.join('\n')).toBeUndefined();

    const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
    const lossRel = node.runningLoss.map((l, i) => rel(browser.runningLoss[i], l));
    const weights = allClose(browser.weights, node.weights, tolFor(node.weights, 1e-5));
    console.log(
      `node vs browser (${browser.adapter}, variant ${browser.variant}):\n` +
        node.runningLoss.map((l, i) => `  step ${i + 1}: running loss node ${l.toFixed(7)} browser ${browser.runningLoss[i]?.toFixed(7)} rel ${lossRel[i].toExponential(2)}`).join('\n') +
        `\n  epoch loss rel ${rel(browser.epochLoss, node.epochLoss).toExponential(2)}; weights after ${PARITY.steps} steps: rel ${weights.relError.toExponential(2)}, max abs ${weights.maxAbsError.toExponential(2)}`,
    );

    // One adapter for both runtimes, or the comparison means nothing.
    expect(browser.adapter).toBe(`${gpu.report.vendor} / ${gpu.report.architecture}`);
    expect(browser.variant).toBe(node.variant);
    expect(node.runningLoss).toHaveLength(PARITY.steps);
    expect(browser.runningLoss).toHaveLength(PARITY.steps);
    for (const r of lossRel) expect(r).toBeLessThan(1e-5);
    expect(rel(browser.epochLoss, node.epochLoss)).toBeLessThan(1e-5);
    expect(browser.epochAccuracy).toBe(node.epochAccuracy);
    expect(weights.nonFinite).toBe(0);
    expect(weights.mismatches, `weights outside 1e-5·|node| + 1e-5·max|node| (worst ${weights.worstRatio.toFixed(2)} of bound)`).toBe(0);
    // The run trains: the running loss after 5 steps is below the first step's.
    expect(node.runningLoss[PARITY.steps - 1]).toBeLessThan(node.runningLoss[0]);
  });
});

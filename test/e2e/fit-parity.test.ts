/**
 * The browser trains with the same code as Node: the first 5 steps of LeNet-5
 * (batch 16, fixed seed, no shuffle, no validation) run through fit in Node
 * (Dawn) and in headless Chromium (its own Dawn), both on SwiftShader, from
 * the same MNIST bytes. Same kernels and adapter type: the losses and the
 * weights after 5 steps must agree to ~1e-5 relative.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeness } from '../helpers/allclose.ts';
import { pageResult, startBrowserSession, type BrowserSession } from '../helpers/browser.ts';
import { testGpu } from '../helpers/gpu.ts';
import { realMnist } from '../helpers/mnist.ts';
import { PARITY, runParity, type ParityRun } from './fit-parity-run.ts';

describe('training in the browser matches training in Node', () => {
  let session: BrowserSession;
  beforeAll(async () => { session = await startBrowserSession(); });
  afterAll(async () => { await session?.close(); });

  it(`gives the same losses over the first ${PARITY.steps} steps and the same weights`, async () => {
    const node = await runParity(await testGpu(), (await realMnist()).train);
    const page = await session.openPage('/test/e2e/fit-parity.html');
    const browser = await pageResult<ParityRun & { error?: string; adapter: string }>(page, session);
    expect(browser.error, session.consoleLines.join('\n')).toBeUndefined();

    const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
    const lossRel = node.runningLoss.map((l, i) => rel(browser.runningLoss[i], l));
    const weights = closeness(browser.weights, node.weights);
    console.log(
      `node vs browser (${browser.adapter}, variant ${browser.variant}):\n` +
        node.runningLoss.map((l, i) => `  step ${i + 1}: running loss node ${l.toFixed(7)} browser ${browser.runningLoss[i]?.toFixed(7)} rel ${lossRel[i].toExponential(2)}`).join('\n') +
        `\n  epoch loss rel ${rel(browser.epochLoss, node.epochLoss).toExponential(2)}; weights after ${PARITY.steps} steps: rel ${weights.relError.toExponential(2)}, max abs ${weights.maxAbsError.toExponential(2)}`,
    );

    expect(browser.variant).toBe(node.variant);
    expect(node.runningLoss).toHaveLength(PARITY.steps);
    expect(browser.runningLoss).toHaveLength(PARITY.steps);
    for (const r of lossRel) expect(r).toBeLessThan(1e-5);
    expect(rel(browser.epochLoss, node.epochLoss)).toBeLessThan(1e-5);
    expect(browser.epochAccuracy).toBe(node.epochAccuracy);
    expect(weights.nonFinite).toBe(0);
    expect(weights.relError).toBeLessThan(1e-5);
    // The run trains: the running loss after 5 steps is below the first step's.
    expect(node.runningLoss[PARITY.steps - 1]).toBeLessThan(node.runningLoss[0]);
  });
});

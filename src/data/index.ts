/**
 * The browser-safe data API: IDX parsing, datasets and splits, and loading
 * MNIST with fetch. The Node file loader lives in ./mnist-node.ts and is not
 * re-exported here because it imports node:fs; import it directly in Node.
 */
export * from './idx.ts';
export * from './dataset.ts';
export * from './mnist-browser.ts';

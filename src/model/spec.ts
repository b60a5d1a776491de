/**
 * Model specs: plain JSON-able objects, Keras-like, that shape inference
 * (model/infer.ts) turns into a fixed plan of buffers and kernel dispatches.
 * Layout conventions are in geometry.ts (NCHW, OIHW, dense [in, out]).
 */
import type { Padding } from '../geometry.ts';

export type Activation = 'linear' | 'tanh' | 'sigmoid' | 'relu' | 'softmax';

export interface Conv2dLayerSpec {
  type: 'conv2d';
  filters: number;
  kernelSize: number | [number, number];
  strides?: number | [number, number];
  /** Default 'valid', as in Keras. */
  padding?: Padding;
  /** Default 'linear'. */
  activation?: Activation;
}

export interface Pool2dLayerSpec {
  type: 'avgPool2d' | 'maxPool2d';
  poolSize: number | [number, number];
  /** Default: poolSize, as in Keras. */
  strides?: number | [number, number];
}

export interface FlattenLayerSpec {
  type: 'flatten';
}

export interface DenseLayerSpec {
  type: 'dense';
  units: number;
  activation?: Activation;
}

export interface ActivationLayerSpec {
  type: 'activation';
  activation: Activation;
}

export type LayerSpec = Conv2dLayerSpec | Pool2dLayerSpec | FlattenLayerSpec | DenseLayerSpec | ActivationLayerSpec;

export interface ModelSpec {
  name?: string;
  /** [channels, height, width]; MNIST is [1, 28, 28]. */
  inputShape: [number, number, number];
  layers: LayerSpec[];
}

/** LeNet-5 as in the classic write-up: tanh, average pooling, Adam. */
export const lenet5: ModelSpec = {
  name: 'lenet5',
  inputShape: [1, 28, 28],
  layers: [
    { type: 'conv2d', filters: 6, kernelSize: 5, padding: 'same', activation: 'tanh' },
    { type: 'avgPool2d', poolSize: 2 },
    { type: 'conv2d', filters: 16, kernelSize: 5, padding: 'valid', activation: 'tanh' },
    { type: 'avgPool2d', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 120, activation: 'tanh' },
    { type: 'dense', units: 84, activation: 'tanh' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
};

/** The variant write-up: sigmoid, max pooling, a 120@4x4 conv in place of the first dense. */
export const lenet5Variant: ModelSpec = {
  name: 'lenet5-variant',
  inputShape: [1, 28, 28],
  layers: [
    { type: 'conv2d', filters: 6, kernelSize: 2, activation: 'sigmoid' },
    { type: 'maxPool2d', poolSize: 2 },
    { type: 'conv2d', filters: 16, kernelSize: 5, activation: 'sigmoid' },
    { type: 'maxPool2d', poolSize: 2 },
    { type: 'conv2d', filters: 120, kernelSize: 4, activation: 'sigmoid' },
    { type: 'flatten' },
    { type: 'dense', units: 84, activation: 'tanh' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
};

export const presets: Record<string, ModelSpec> = { lenet5, 'lenet5-variant': lenet5Variant };

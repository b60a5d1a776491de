/**
 * Errors across the worker boundary. Structured clone keeps only a plain
 * Error's message, so the worker sends the class name, message, stack and
 * the error's own fields, and the client rebuilds an instance of the same
 * class: `catch (e) { if (e instanceof CheckpointError) ... }` works the same
 * whether the model lives on the main thread or in a worker.
 */
import { DatasetError } from '../data/dataset.ts';
import { IdxError } from '../data/idx.ts';
import { MnistFetchError } from '../data/mnist-browser.ts';
import { CheckpointError, NumericalError } from '../engine/errors.ts';
import { ModelBusyError, ModelDisposedError } from '../engine/model-turns.ts';
import { ShapeError } from '../geometry.ts';
import { GpuDeviceLostError, GpuLimitError, GpuValidationError, WebGpuUnavailableError } from '../gpu/errors.ts';
import { SpecError } from '../model/infer.ts';
import { InteropError } from '../interop/errors.ts';
import { KernelCompileError } from '../kernels/errors.ts';
import { AugmentOptionsError } from '../reference/augment.ts';
import type { SerializedError } from './protocol.ts';

type ErrorClass = new (...args: never[]) => Error;

/** Every error class the engine throws, by name, plus the built-in ones a caller may test for. */
const ERROR_CLASSES: Record<string, ErrorClass> = {
  WebGpuUnavailableError,
  GpuDeviceLostError,
  GpuValidationError,
  GpuLimitError,
  KernelCompileError,
  SpecError,
  ShapeError,
  ModelBusyError,
  ModelDisposedError,
  NumericalError,
  CheckpointError,
  DatasetError,
  IdxError,
  MnistFetchError,
  InteropError,
  AugmentOptionsError,
  RangeError,
  TypeError,
  SyntaxError,
  Error,
};

const cloneable = (value: unknown): boolean => value === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof value);

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (key !== 'name' && key !== 'message' && key !== 'stack' && cloneable(value)) fields[key] = value;
  }
  return { name: error.name, message: error.message, stack: error.stack, fields };
}

/**
 * An instance of the named class (or of Error, keeping the name, for one the
 * client does not know), without calling its constructor, whose arguments
 * differ from class to class; the worker's stack follows the client's.
 */
export function reviveError(data: SerializedError, context: string): Error {
  const cls = ERROR_CLASSES[data.name] ?? Error;
  const error = Object.create(cls.prototype) as Error;
  const local = new Error(data.message).stack ?? '';
  Object.defineProperties(error, {
    name: { value: data.name, writable: true, configurable: true, enumerable: true },
    message: { value: data.message, writable: true, configurable: true },
    stack: { value: `${local}\n    --- ${context}, in the training worker ---\n${data.stack ?? '(no stack)'}`, writable: true, configurable: true },
  });
  for (const [key, value] of Object.entries(data.fields)) {
    Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable: true });
  }
  return error;
}

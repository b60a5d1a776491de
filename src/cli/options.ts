/**
 * Flag parsing shared by the subcommands: node:util parseArgs in strict mode
 * (an unknown flag is an error), plus typed number readers that name the flag
 * and the value they refuse.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFileSync } from 'node:fs';
import { presets, type ModelSpec } from '../model/spec.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, usage: string) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
  }
}

export function numberFlag(name: string, value: string | undefined, check: (n: number) => boolean, expected: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !check(n)) throw new UsageError(`--${name} must be ${expected}, got "${value}"`);
  return n;
}

export const positiveInt = (n: number): boolean => Number.isInteger(n) && n >= 1;

export function loadSpec(preset: string | undefined, specFile: string | undefined): ModelSpec {
  if (preset && specFile) throw new UsageError('give either --preset or --spec, not both');
  if (specFile) {
    try {
      return JSON.parse(readFileSync(specFile, 'utf8')) as ModelSpec;
    } catch (error) {
      throw new UsageError(`could not read the spec file ${specFile}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const name = preset ?? 'lenet5';
  const spec = presets[name];
  if (!spec) throw new UsageError(`unknown preset "${name}"; presets: ${Object.keys(presets).join(', ')}`);
  return spec;
}

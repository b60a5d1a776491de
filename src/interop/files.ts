/**
 * Node file I/O for the interop formats (the formats themselves are
 * browser-safe and work on bytes): a TF.js model folder (model.json plus its
 * shard), written atomically; a TF.js model.json read back with the shards
 * its manifest names, from the same folder; and the format of a path.
 */
import { readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { writeFileAtomic } from '../util/node-files.ts';
import { InteropError } from './errors.ts';
import { TFJS_SHARD_NAME, type TfjsArtifacts, type TfjsModelJson } from './tfjs-layers.ts';

export type InteropFormat = 'tfjs' | 'onnx' | 'safetensors';
export const INTEROP_FORMATS: readonly InteropFormat[] = ['tfjs', 'onnx', 'safetensors'];

/** Writes model.json and its shard into `dir`; returns the paths written. */
export function writeTfjsFolder(dir: string, artifacts: TfjsArtifacts): string[] {
  const shard = join(dir, TFJS_SHARD_NAME);
  const json = join(dir, 'model.json');
  writeFileAtomic(shard, artifacts.weightData);
  // model.json last: a reader that finds it finds its shard too.
  writeFileAtomic(json, `${JSON.stringify(artifacts.modelJson, null, 1)}\n`);
  return [json, shard];
}

/** Reads a model.json (or the folder holding one) and the shards of its manifest, concatenated in manifest order. */
export function readTfjsModel(path: string): { modelJson: TfjsModelJson; weightData: Uint8Array; source: string } {
  const source = extname(path) === '.json' ? path : join(path, 'model.json');
  let modelJson: TfjsModelJson;
  try {
    modelJson = JSON.parse(readFileSync(source, 'utf8')) as TfjsModelJson;
  } catch (error) {
    throw new InteropError(`could not read ${source}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!Array.isArray(modelJson?.weightsManifest)) throw new InteropError(`${source} has no weightsManifest; is it a TF.js Layers model.json?`);
  const shards: Uint8Array[] = [];
  for (const group of modelJson.weightsManifest) {
    for (const p of group.paths ?? []) {
      if (/^[a-z]+:\/\//i.test(p) || p.includes('..')) throw new InteropError(`${source}: shard path "${p}" leaves the model's folder; only shards beside model.json are read`);
      try {
        shards.push(new Uint8Array(readFileSync(join(dirname(source), p))));
      } catch (error) {
        throw new InteropError(`${source}: could not read its weight shard ${p} (${error instanceof Error ? error.message : String(error)}); keep the shards beside model.json`);
      }
    }
  }
  const weightData = new Uint8Array(shards.reduce((n, s) => n + s.length, 0));
  let at = 0;
  for (const s of shards) {
    weightData.set(s, at);
    at += s.length;
  }
  return { modelJson, weightData, source };
}

/** The format a path names by its extension (.json or a folder: tfjs; .onnx; .safetensors). */
export function formatOfPath(path: string): InteropFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.onnx') return 'onnx';
  if (ext === '.safetensors') return 'safetensors';
  if (ext === '.json' || ext === '') return 'tfjs';
  return undefined;
}

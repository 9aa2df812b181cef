/**
 * Checkpoints as tfjs model files that any backend can write and read: model.json
 * (topology, weights manifest and mtl's own metadata) plus one weights file.
 *
 * model.json is written last and atomically, and names a weights file unique to
 * that save; the previous weights file is deleted only after the new model.json is
 * in place. A process killed at any moment therefore leaves either the old
 * checkpoint or the new one, both loadable.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { ExitCode, UserError } from '../errors';
import { removeStaleTempFiles, writeFileAtomic } from './atomic';
import { CHECKPOINT_VERSION } from './checkpoint-meta';
import '../models/layers';

export const MODEL_FILE = 'model.json';

interface ModelJson {
  format: string;
  generatedBy: string;
  convertedBy: string | null;
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: Record<string, unknown>;
}

/** A model's topology, weight specs and weights in one buffer, as model.save hands them over. */
export interface ModelArtifacts {
  topology: object;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weights: Uint8Array;
}

export async function modelArtifacts(model: tfl.LayersModel): Promise<ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts?.weightSpecs || !artifacts.weightData) throw new Error('model.save produced no weights');
  return { topology: artifacts.modelTopology as object, weightSpecs: artifacts.weightSpecs, weights: new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData)) };
}

/** model.json of a tfjs layers model whose weights are in one file (stock tf.loadLayersModel reads it). */
export function layersModelJson(artifacts: ModelArtifacts, weightsFile: string, userDefinedMetadata: Record<string, unknown>, convertedBy: string | null = null): ModelJson {
  return {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
    convertedBy,
    modelTopology: artifacts.topology,
    weightsManifest: [{ paths: [weightsFile], weights: artifacts.weightSpecs }],
    userDefinedMetadata,
  };
}

/** A tensor with its name, as optimizers' getWeights() return them. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** A checkpoint read back from disk. */
export interface LoadedCheckpoint<M> {
  model: tfl.LayersModel;
  meta: M;
  /** Named tensors of extra groups by group name; the caller disposes them. */
  extras: Record<string, NamedTensor[]>;
  dir: string;
}

/**
 * Writes `model` and `meta` (JSON) into `dir`, atomically. `extras` are stored in
 * their own weights files and listed in the metadata, not in the model's manifest,
 * so plain tfjs loaders still read model.json as an ordinary layers model.
 */
export async function saveCheckpoint(
  dir: string,
  model: tfl.LayersModel,
  meta: object,
  extras: Record<string, NamedTensor[]> = {},
): Promise<void> {
  mkdirSync(dir, { recursive: true });
  removeStaleTempFiles(dir);
  const tag = randomBytes(4).toString('hex');
  const artifacts = await modelArtifacts(model);
  const weightsFile = `weights-${tag}.bin`;
  const digests: Record<string, string> = {};
  const writeBin = (name: string, bytes: Uint8Array) => {
    writeFileAtomic(path.join(dir, name), bytes);
    digests[name] = sha256(bytes);
  };
  writeBin(weightsFile, artifacts.weights);

  const extraManifest: Record<string, { path: string; weights: tf.io.WeightsManifestEntry[] }> = {};
  for (const [group, tensors] of Object.entries(extras)) {
    const { data, specs } = await tf.io.encodeWeights(tensors);
    const file = `${group}-${tag}.bin`;
    writeBin(file, new Uint8Array(data));
    extraManifest[group] = { path: file, weights: specs };
  }

  const json = layersModelJson(artifacts, weightsFile, { mtl: meta, mtlExtras: extraManifest, mtlSha256: digests });
  writeFileAtomic(path.join(dir, MODEL_FILE), JSON.stringify(json));

  const keep = new Set([weightsFile, ...Object.values(extraManifest).map((e) => e.path), MODEL_FILE]);
  for (const name of readdirSync(dir)) {
    if (!keep.has(name) && name.endsWith('.bin')) rmSync(path.join(dir, name), { force: true });
  }
}

/** Reads a checkpoint folder (or its model.json); every problem is a UserError naming the file. */
export async function loadCheckpoint<M>(location: string): Promise<LoadedCheckpoint<M>> {
  const dir = location.endsWith('.json') ? path.dirname(location) : location;
  const file = location.endsWith('.json') ? location : path.join(dir, MODEL_FILE);
  const json = readModelJson(file);
  checkVersion(json.userDefinedMetadata?.mtl ?? {}, file);
  const manifest = json.weightsManifest[0];
  const digests = json.userDefinedMetadata?.mtlSha256 as Record<string, string> | undefined;
  const weightData = readWeights(dir, manifest.paths, manifest.weights, file, digests);
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology as object, weightSpecs: manifest.weights, weightData }),
    );
  } catch (e) {
    throw new UserError(`${file}: cannot build the model from this checkpoint: ${(e as Error).message}`, {
      hint: 'the checkpoint is damaged or was written by another tool; retrain or pick another checkpoint',
    });
  }
  const extras: Record<string, NamedTensor[]> = {};
  const extraManifest = (json.userDefinedMetadata?.mtlExtras ?? {}) as Record<string, { path: string; weights: tf.io.WeightsManifestEntry[] }>;
  for (const [group, entry] of Object.entries(extraManifest)) {
    const data = readWeights(dir, [entry.path], entry.weights, file, digests);
    const map = tf.io.decodeWeights(data, entry.weights);
    extras[group] = entry.weights.map((w) => ({ name: w.name, tensor: map[w.name] }));
  }
  return { model, meta: checkVersion((json.userDefinedMetadata?.mtl ?? {}) as M, file), extras, dir };
}

/** Only the metadata, without building the model. */
export function readCheckpointMeta<M>(location: string): M {
  const file = location.endsWith('.json') ? location : path.join(location, MODEL_FILE);
  return checkVersion((readModelJson(file).userDefinedMetadata?.mtl ?? {}) as M, file);
}

/** A checkpoint of an older layout (before typed inputs) cannot be read by this version. */
function checkVersion<M>(meta: M, file: string): M {
  const { format, version } = meta as { format?: string; version?: number };
  if (format === 'mtl-checkpoint' && version !== undefined && version < CHECKPOINT_VERSION) {
    throw new UserError(`${file}: written by an older mtl (checkpoint version ${version}; this mtl reads version ${CHECKPOINT_VERSION}, with typed inputs)`, {
      exitCode: 2,
      hint: 'train the model again with this version, or use the mtl that trained it',
    });
  }
  return meta;
}

export function isCheckpointDir(dir: string): boolean {
  return existsSync(path.join(dir, MODEL_FILE));
}

/** Weights by name (`layer/weight`) from any tfjs layers model.json, for initializing a backbone. */
export function readWeightMap(file: string): tf.NamedTensorMap {
  const json = readModelJson(file);
  const dir = path.dirname(file);
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const data = readWeights(dir, json.weightsManifest.flatMap((g) => g.paths), specs, file);
  return tf.io.decodeWeights(data, specs);
}

function readModelJson(file: string): ModelJson {
  let text: string;
  try {
    if (statSync(file).isDirectory()) throw new UserError(`${file}: is a directory, expected a model.json file`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${file}: no checkpoint here (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`, {
      hint: 'pass a run folder or a checkpoints/<best|last> folder written by mtl train',
    });
  }
  let json: ModelJson;
  try {
    json = JSON.parse(text) as ModelJson;
  } catch {
    throw new UserError(`${file}: not valid JSON (the file is truncated or corrupt)`, { hint: 'use the other checkpoint (best or last), or retrain' });
  }
  if (!json || typeof json !== 'object' || !json.modelTopology || !Array.isArray(json.weightsManifest) || json.weightsManifest.length === 0) {
    throw new UserError(`${file}: not a tfjs layers model (no modelTopology or weightsManifest)`, {
      hint: 'point at a model.json written by mtl or by the tfjs/keras converter',
    });
  }
  return json;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** checkpoints/best <-> checkpoints/last: the one to try when this one is damaged. */
function otherCheckpoint(dir: string): string {
  const name = path.basename(dir);
  const other = name === 'best' ? 'last' : name === 'last' ? 'best' : undefined;
  return other && existsSync(path.join(path.dirname(dir), other)) ? `try ${path.join(path.dirname(dir), other)}, or retrain` : 'use another checkpoint or retrain';
}

/** The weights files' bytes, checked against the SHA-256 digests mtl recorded when it wrote them (older checkpoints have none). */
function readWeights(dir: string, paths: string[], specs: tf.io.WeightsManifestEntry[], file: string, digests?: Record<string, string>): ArrayBuffer {
  const parts: Buffer[] = [];
  for (const p of paths) {
    const binPath = path.join(dir, p);
    let bytes: Buffer;
    try {
      bytes = readFileSync(binPath);
    } catch {
      throw new UserError(`${file}: its weights file ${p} is missing`, { hint: `the checkpoint is incomplete; ${otherCheckpoint(dir)}` });
    }
    parts.push(bytes);
  }
  const data = Buffer.concat(parts);
  const expected = specs.reduce((n, s) => n + bytesOf(s), 0);
  if (data.length !== expected) {
    throw new UserError(`${file}: weights file holds ${data.length} bytes, the manifest needs ${expected}`, {
      hint: 'the weights file is truncated or belongs to another model; use the other checkpoint or retrain',
    });
  }
  paths.forEach((p, i) => {
    const want = digests?.[p];
    if (want !== undefined && sha256(parts[i]) !== want) {
      throw new UserError(`${path.join(dir, p)} is damaged: its SHA-256 does not match the one recorded in ${file} when it was written`, {
        exitCode: ExitCode.failure,
        hint: `the file changed on disk after training; ${otherCheckpoint(dir)}`,
      });
    }
  });
  return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
}

function bytesOf(spec: tf.io.WeightsManifestEntry): number {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const perValue = spec.quantization ? (spec.quantization.dtype === 'uint8' ? 1 : 2) : spec.dtype === 'bool' ? 1 : 4;
  return size * perValue;
}

import { availableParallelism } from 'node:os';
import type { BackendName } from '../backends';
import type { Config } from '../config/schema';
import type { Preprocessing } from '../data/types';
import { UserError } from '../errors';
import { INFERENCE_BATCH } from './evaluate';

/** A keras-sized ResNet preset (resnet18/34/50: 11-24M weights). */
function isKerasPreset(config: Config): boolean {
  const backbone = config.model.backbone;
  return backbone.type === 'resnet' && backbone.preset !== undefined;
}

/** One thread per core, up to 4. */
const perCore = () => Math.min(availableParallelism(), 4);

/** The encoders of the config's text inputs. */
function textEncoders(config: Config): string[] {
  const inputs = 'inputs' in config.data ? (config.data.inputs ?? []) : [];
  return inputs.flatMap((input) => (input.type === 'text' ? [input.encoder] : []));
}

/** Text read by a cnn or transformer encoder: steps long enough for threads to pay, unlike a bag's. */
function heavyText(config: Config): boolean {
  return textEncoders(config).some((encoder) => encoder !== 'bag');
}

/**
 * Training threads of a run on the wasm and cpu engines (native engines thread
 * themselves). `auto` gives one per core, up to 4, to ResNets and to text read by a cnn
 * or transformer encoder (data-parallel: the reference ResNet-14 1.7x on 2 cores, the
 * transformer 1.8x; as kernel threads ResNet-50 1.55x and the text-cnn 1.3x, at about
 * the memory of one thread); MLP and bag-of-embeddings steps are too short for the
 * per-step synchronization to pay (0.73x, 0.6x). A gradient method on the
 * representation runs on one (it combines the whole batch's features in one place).
 */
export function configuredThreads(config: Config): number {
  if (config.threads !== 'auto') return config.threads;
  const weighting = config.training.weighting;
  if ('on' in weighting && weighting.on === 'representation') return 1;
  return config.model.backbone.type === 'resnet' || heavyText(config) ? perCore() : 1;
}

/** Text read by cnn encoders (and no transformer, whose steps split better as replicas). */
function cnnText(config: Config): boolean {
  const encoders = textEncoders(config);
  return encoders.includes('cnn') && !encoders.includes('transformer');
}

/**
 * `parallelism` resolved. Under auto, kernel threads (one model, wasm's kernels split
 * over the threads) for the keras-sized presets, where a replica per thread would hold
 * another copy of 11-24M weights, their Adam moments and a heap (ResNet50 on two: 34.4
 * samples/s at 949 MB against 29.0 at 1,609 as replicas), and for text read by a cnn
 * (the bench's text-cnn: 7,400-8,000 against 6,200 as replicas); data-parallel replicas
 * otherwise (ResNet-14: 559 as replicas, 492 as kernel threads; the transformer: 227
 * against 117).
 */
export function parallelism(config: Config): 'data' | 'kernels' {
  // Runs saved before the key existed resume as `auto`.
  const chosen = config.parallelism ?? 'auto';
  if (chosen !== 'auto') return chosen;
  return isKerasPreset(config) || cnnText(config) ? 'kernels' : 'data';
}

/** Kernel threads to start the wasm engine with (1: none); the engine ignores them elsewhere. */
export function kernelThreads(config: Config): number {
  return parallelism(config) === 'kernels' ? configuredThreads(config) : 1;
}

/** Data-parallel replicas of a run on `backend` (1 for native engines, and where the threads are kernel threads). */
export function dataReplicas(config: Config, backend: BackendName): number {
  if (backend !== 'wasm' && backend !== 'cpu') return 1;
  return parallelism(config) === 'data' ? configuredThreads(config) : 1;
}

/**
 * Kernel threads to start the wasm engine with for eval and predict: only where the
 * config asks for them (`parallelism: kernels`), one per core up to 4, or --threads.
 * Under auto a model per thread scores faster (ResNet50, batch 256, two threads: 170-182
 * against 164-173 samples/s), though in twice the memory (840 MB against 419).
 */
export function inferenceKernelThreads(config: Config, requested?: number): number {
  if (config.parallelism !== 'kernels') return 1;
  return requested ?? perCore();
}

/**
 * Threads scoring `rows` rows (eval, predict) on the wasm and cpu engines; each takes
 * whole batches of INFERENCE_BATCH rows, so there are never more threads than batches.
 * `requested` (--threads) decides; otherwise convolutional networks (a resnet or cnn
 * backbone, image inputs, or text read by a cnn or transformer) get one per core up to 4, each with rows enough to pay for
 * its start (loading the engine and the model: 0.4 s for the reference ResNet-14, which
 * scores 1,024 rows in about 1 s; 1.3 s for ResNet-50, which takes 3 s for 256), and the
 * rest one: an MLP batch takes well under a millisecond, less than handing it over costs.
 * With kernel threads (`kernelThreads` > 1) one model scores, its kernels split.
 */
export function inferenceThreads(config: Config, preprocessing: Preprocessing, backend: BackendName, rows: number, requested?: number, kernelThreads = 1): number {
  if (requested !== undefined && requested < 1) throw new UserError(`--threads ${requested}: expected 1 or more`, { exitCode: 2 });
  if (backend !== 'wasm' && backend !== 'cpu') return 1;
  if (kernelThreads > 1) return 1;
  const batches = Math.ceil(rows / INFERENCE_BATCH);
  if (requested !== undefined) return Math.max(1, Math.min(requested, batches));
  const backbone = config.model.backbone;
  const convolutional = backbone.type !== 'mlp' || preprocessing.inputs.some((input) => input.type === 'image') || heavyText(config);
  if (!convolutional) return 1;
  const rowsPerThread = isKerasPreset(config) ? INFERENCE_BATCH : 4 * INFERENCE_BATCH;
  return Math.max(1, Math.min(perCore(), Math.floor(rows / rowsPerThread)));
}

/**
 * An image: a column of PNG/JPEG paths (relative to the data file, or absolute), or the
 * images of an IDX file. Pixels are scaled to [0, 1], converted to `channels` and resized
 * to `size` when given; without `size` every image must have the first one's size.
 * Alone, the image's encoder is the configured backbone (a ResNet, presets included);
 * beside other inputs it gets a ResNet encoder of its own whose pooled features join
 * the combiner.
 */
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ResnetBackboneConfig } from '../config/schema';
import { decodeImageFile, ImageFileError, toPixels, type DecodedImage } from '../data/image-files';
import { buildBackbone } from '../models/backbones';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { CellError, type InputType } from './types';

export interface ImageOptions {
  /** [height, width] to resize to. */
  size?: [number, number];
  channels?: 1 | 3;
  /** The ResNet that encodes this image when the model has other inputs too. */
  encoder: Omit<ResnetBackboneConfig, 'type' | 'weights'>;
}

export interface ImageState {
  height: number;
  width: number;
  channels: number;
  /** Whether `size` was given: images of other sizes are resized rather than refused. */
  resize: boolean;
  encoder: ImageOptions['encoder'];
}

/** Decoded files of one data load, by absolute path: each file is decoded once. */
const decoded = new Map<string, DecodedImage>();
let decodeSeconds = 0;

/** Forgets the decoded files (the split holds the pixels) and says how many there were and how long they took. */
export function releaseDecodedImages(): { files: number; seconds: number } {
  const stats = { files: decoded.size, seconds: decodeSeconds };
  decoded.clear();
  decodeSeconds = 0;
  return stats;
}

/**
 * Pixels on disk (streamed data, data.streaming): each image's encoded pixels, written
 * when it is first decoded to one temporary file of float32 values and read back by
 * offset afterwards, so every later epoch reads them instead of decoding the file again
 * and memory holds only an index (a path and an offset per image).
 */
class PixelCache {
  private readonly fd: number;
  private readonly index = new Map<string, number>();
  private end = 0;
  readonly file: string;

  constructor() {
    this.file = path.join(tmpdir(), `mtl-pixels-${process.pid}-${Math.random().toString(36).slice(2)}.f32`);
    this.fd = openSync(this.file, 'w+');
    process.once('exit', () => this.remove());
  }

  get(key: string, out: Float32Array): boolean {
    const offset = this.index.get(key);
    if (offset === undefined) return false;
    readSync(this.fd, new Uint8Array(out.buffer, out.byteOffset, out.byteLength), 0, out.byteLength, offset);
    return true;
  }

  put(key: string, pixels: Float32Array): void {
    writeSync(this.fd, new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength), 0, pixels.byteLength, this.end);
    this.index.set(key, this.end);
    this.end += pixels.byteLength;
  }

  get images(): number {
    return this.index.size;
  }

  get bytes(): number {
    return this.end;
  }

  remove(): void {
    try {
      closeSync(this.fd);
      rmSync(this.file, { force: true });
    } catch {
      // Already gone.
    }
  }
}

let pixelCache: PixelCache | undefined;

/** Decoded images go to a file on disk from here on (streamed loads); returns where. */
export function usePixelCache(): { file: string } {
  pixelCache ??= new PixelCache();
  return { file: pixelCache.file };
}

/** Images and bytes in the disk cache (for the log). */
export function pixelCacheStats(): { images: number; bytes: number } | undefined {
  return pixelCache && { images: pixelCache.images, bytes: pixelCache.bytes };
}

function decode(cell: string, dataFile: string): DecodedImage {
  const file = path.resolve(path.dirname(dataFile), cell);
  let image = decoded.get(file);
  if (!image) {
    const started = performance.now();
    try {
      image = decodeImageFile(file);
      decodeSeconds += (performance.now() - started) / 1000;
    } catch (e) {
      if (e instanceof ImageFileError) throw new CellError(e.message, 'fix the path (relative to the data file) or the file');
      throw e;
    }
    // With the disk cache, the pixels are kept there, not the decoded file.
    if (!pixelCache) decoded.set(file, image);
  }
  return image;
}

export const imageInput: InputType<ImageOptions, ImageState> = {
  fit(cells, options, context) {
    const first = decode(cells[0], context.file);
    return {
      height: options.size?.[0] ?? first.height,
      width: options.size?.[1] ?? first.width,
      channels: options.channels ?? first.channels,
      resize: options.size !== undefined,
      encoder: options.encoder,
    };
  },
  fitter(options, context) {
    let first: string | undefined;
    let n = 0;
    return {
      add(cell, count = 1) {
        first ??= cell;
        n += count;
      },
      get count() {
        return n;
      },
      finish: () => imageInput.fit([first!], options, context),
    };
  },
  packed: () => false,
  shape: (state) => [state.height, state.width, state.channels],
  fill: () => {
    throw new CellError('is missing; an image cannot be imputed', 'give every row an image, or set data.missing: drop');
  },
  encode(cell, state, out, context) {
    const key = pixelCache && `${path.resolve(path.dirname(context.file), cell)}\0${state.height}x${state.width}x${state.channels}`;
    if (key && pixelCache!.get(key, out)) return;
    const image = decode(cell, context.file);
    if (!state.resize && (image.height !== state.height || image.width !== state.width)) {
      throw new CellError(
        `image ${cell} is ${image.height}x${image.width}, the others are ${state.height}x${state.width}`,
        `set size: [${state.height}, ${state.width}] on the input to resize every image to one size`,
      );
    }
    toPixels(image, state.height, state.width, state.channels, out);
    if (key) pixelCache!.put(key, out);
  },
  encoder(input, spec, { rng, alone }) {
    if (alone) return input;
    const backbone = buildBackbone({ type: 'resnet', ...spec.state.encoder } as ResnetBackboneConfig, { prefix: `${spec.name}_`, rng, inputShape: spec.shape });
    return backbone.stages.reduce<SymbolicTensor>((x, stage) => stage(x), input);
  },
};

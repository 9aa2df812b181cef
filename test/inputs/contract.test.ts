/**
 * Every registered input type: fitted on cells, encodes them to its shape, round-trips
 * its state through JSON (the checkpoint) to the same encoding, encodes new rows (predict)
 * and rejects a bad value with a CellError. A new type needs an entry in `examples`.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backends';
import { defaultImageEncoder } from '../../src/config/schema';
import { encodePng } from '../../src/data/image-files';
import { Rng } from '../../src/data/rng';
import { CellError, inputRegistry, inputType } from '../../src/inputs';
import { tempDir } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'cpu' });
});

const dir = tempDir();
const dataFile = path.join(dir, 'table.csv');
const png = (name: string, value: number, size = 4) => {
  writeFileSync(path.join(dir, name), encodePng(new Uint8Array(size * size).fill(value), size, size, 1));
  return name;
};

interface Example {
  options: unknown;
  train: string[];
  fresh: string[];
  /** A cell the type refuses (text refuses none: any string is a text, bytes that are not UTF-8 fail when the file is read). */
  bad?: string;
  /** Options under which the type has a trainable encoder of its own. */
  encoderOptions?: unknown;
}

const textDefaults = { tokenizer: 'words', ngram: 3, lowercase: true, max_vocab: 100, encoder: 'bag', embedding_dim: 8, layers: 1, heads: 4, dropout: 0, kernel_size: 3 };

const examples: Record<keyof typeof inputRegistry, Example> = {
  numeric: { options: { standardize: true }, train: ['1', '2', '3', '6'], fresh: ['4.5', '-1'], bad: 'forty' },
  category: { options: { encoder: 'one_hot', dim: 3 }, train: ['red', 'blue', 'red'], fresh: ['blue', 'red'], bad: 'green', encoderOptions: { encoder: 'embedding', dim: 3 } },
  image: { options: { encoder: defaultImageEncoder() }, train: [png('a.png', 0), png('b.png', 255)], fresh: [png('c.png', 128)], bad: 'missing.png' },
  text: {
    options: { ...textDefaults, min_count: 1, max_length: 6 },
    train: ['The Union is strong', 'the state of the union', 'Ünïcode wörds, too'],
    fresh: ['a union never seen before and far longer than six tokens', ''],
    encoderOptions: { ...textDefaults, min_count: 1, max_length: 6, encoder: 'transformer', embedding_dim: 8, heads: 2 },
  },
};

test('every registered input type has a contract example', () => {
  assert.deepEqual(Object.keys(examples).sort(), Object.keys(inputRegistry).sort());
});

for (const [name, example] of Object.entries(examples)) {
  test(`input type ${name}: fit, encode, checkpoint round trip, new rows, a bad value, its encoder`, () => {
    const type = inputType(name);
    const state = type.fit(example.train, example.options, { file: dataFile, lines: example.train.map((_, i) => i + 2) });
    const encode = (cells: string[], s: unknown) =>
      cells.map((cell) => {
        const out = new Float32Array(type.shape(s).reduce((a, b) => a * b, 1));
        type.encode(cell, s, out, { file: dataFile, strictCategories: true, unseen: { count: 0 } });
        return Array.from(out);
      });
    const encoded = encode(example.train, state);
    assert.ok(encoded.every((row) => row.every(Number.isFinite)), 'finite values');
    assert.ok(new Set(encoded.map((r) => r.join())).size > 1, 'different cells encode differently');
    const restored = JSON.parse(JSON.stringify(state));
    assert.deepEqual(encode(example.train, restored), encoded, 'the saved state encodes the same');
    assert.equal(encode(example.fresh, restored).length, example.fresh.length);
    if (example.bad !== undefined) assert.throws(() => encode([example.bad!], restored), CellError);
    const fill = (() => {
      try {
        return type.fill(restored);
      } catch (e) {
        assert.ok(e instanceof CellError, 'a type that cannot impute says so with a CellError');
        return undefined;
      }
    })();
    if (fill !== undefined) assert.equal(encode([fill], restored).length, 1);

    // The encoder maps the input to one vector per sample, alone and beside other inputs.
    for (const options of [example.options, example.encoderOptions].filter(Boolean)) {
      const s = type.fit(example.train, options, { file: dataFile, lines: [] });
      const spec = { name: `in_${name}`, type: name, shape: type.shape(s), state: s };
      const input = tfl.input({ shape: spec.shape });
      const output = type.encoder(input, spec, { rng: new Rng(1), alone: false });
      assert.equal(output.shape.length, 2, `${name}: a vector per sample`);
      const model = tfl.model({ inputs: input, outputs: output });
      const batch = Float32Array.from(encode(example.train, s).flat());
      const y = model.predict(tf.tensor(batch, [example.train.length, ...spec.shape])) as tf.Tensor;
      assert.equal(y.shape[0], example.train.length);
      assert.ok(Array.from(y.dataSync()).every(Number.isFinite));
    }
  });
}

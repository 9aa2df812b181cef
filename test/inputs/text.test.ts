/**
 * Text inputs: tokenization, the vocabulary and its limits, every encoder training on a
 * small corpus where the words carry the labels, checkpoints that reload their custom
 * layers, predict on raw text, and the messages for empty, long and non-UTF-8 text.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backends';
import { evalCommand } from '../../src/api/eval';
import { predictCommand } from '../../src/api/predict';
import { trainCommand } from '../../src/api/train';
import { textEncoderNames } from '../../src/config/schema';
import { loadData } from '../../src/data/load';
import { Rng } from '../../src/data/rng';
import { DataError } from '../../src/errors';
import { textInput, tokenize, type TextState } from '../../src/inputs/text';
import { textEncoderRegistry, type TextPooling } from '../../src/inputs/text-encoders';
import { silentProgress } from '../../src/training/progress';
import { configFrom } from '../helpers/config';
import { captureOutput } from '../helpers/output';
import { metricRows } from '../helpers/run';
import { tempDir, writeFile } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

const dir = tempDir();
const words = { tokenizer: 'words', ngram: 3, lowercase: true } as const;

test('tokenize: Unicode words, lowercased, apostrophes kept inside words; character n-grams within words', () => {
  assert.deepEqual(tokenize("The Nation's 2nd Ünïon—strong, São Paulo!", words), ["the", "nation's", '2nd', 'ünïon', 'strong', 'são', 'paulo']);
  assert.deepEqual(tokenize('Union', { ...words, lowercase: false }), ['Union']);
  assert.deepEqual(tokenize('I', { ...words, tokenizer: 'char_ngrams' }), ['<i>'], 'a word no longer than n is one token');
  assert.deepEqual(tokenize('Tax it', { ...words, tokenizer: 'char_ngrams' }), ['<ta', 'tax', 'ax>', '<it', 'it>']);
});

test('vocabulary: train tokens seen min_count times, most frequent first, capped by max_vocab; unknown and padding ids', () => {
  const options = { tokenizer: 'words', ngram: 3, lowercase: true, max_vocab: 4, min_count: 2, max_length: 5, encoder: 'bag', embedding_dim: 8, layers: 1, heads: 2, dropout: 0, kernel_size: 3 } as const;
  const state = textInput.fit(['a b c', 'a b', 'a d', 'e'], options, { file: 'x', lines: [] }) as TextState;
  assert.deepEqual(state.vocab, ['', '<unk>', 'a', 'b'], 'c, d and e were seen once; the cap keeps 2 words beside the two special ids');
  const out = new Float32Array(5);
  let cut = 0;
  textInput.encode('b z a a a a a', state, out, { file: 'x', strictCategories: true, unseen: { count: 0 }, tally: () => cut++ });
  assert.deepEqual(Array.from(out), [3, 1, 2, 2, 2]);
  assert.equal(cut, 1, 'a text over max_length is counted');
  textInput.encode('', state, out, { file: 'x', strictCategories: true, unseen: { count: 0 } });
  assert.deepEqual(Array.from(out), [0, 0, 0, 0, 0], 'no tokens: all padding');
});

test('every text encoder is in the schema and gives one vector per text', () => {
  assert.deepEqual(Object.keys(textEncoderRegistry).sort(), [...textEncoderNames].sort());
});

test('pooling: mean, max or both side by side over the real tokens; padding never counts', () => {
  const dim = 3;
  const embedding = Float32Array.from({ length: 5 * dim }, (_, i) => ((i * 7) % 11) - 5);
  const row = (id: number) => Array.from(embedding.subarray(id * dim, (id + 1) * dim));
  const ids = [[2, 3, 4, 0], [0, 0, 0, 0]];
  const pooled = (pooling: TextPooling) => {
    const input = tfl.input({ shape: [4] });
    const context = { prefix: 't_', vocabSize: 5, maxLength: 4, embeddingDim: dim, layers: 1, heads: 1, dropout: 0, kernelSize: 3, initialEmbeddings: embedding, pooling, rng: new Rng(1) };
    const model = tfl.model({ inputs: input, outputs: textEncoderRegistry.bag(input, context) });
    const out = tf.tidy(() => (model.predict(tf.tensor2d(ids)) as tf.Tensor).arraySync() as number[][]);
    model.dispose();
    return out;
  };
  const real = [row(2), row(3), row(4)];
  const mean = real[0].map((_, j) => real.reduce((a, r) => a + r[j], 0) / 3);
  const max = real[0].map((_, j) => Math.max(...real.map((r) => r[j])));
  const close = (actual: number[], expected: number[]) => actual.forEach((v, j) => assert.ok(Math.abs(v - expected[j]) < 1e-5, `${actual} against ${expected}`));
  close(pooled('mean')[0], mean);
  close(pooled('max')[0], max);
  const both = pooled('mean_max');
  close(both[0], [...mean, ...max]);
  close(both[1], Array(2 * dim).fill(0));
});

/** 240 short texts: the words "alpha"/"beta" give the class, the count of "up" the value. */
function corpus(): string {
  const rng = new Rng(5);
  const filler = ['the', 'of', 'and', 'a', 'to', 'in', 'is', 'it', 'that', 'was'];
  const rows = ['text,kind,level'];
  for (let i = 0; i < 240; i++) {
    const kind = rng.int(2);
    const level = rng.int(4);
    const tokens = [...Array.from({ length: 6 }, () => filler[rng.int(filler.length)]), kind ? 'alpha' : 'beta', ...Array(level).fill('up')];
    rng.shuffle(tokens);
    rows.push(`"${tokens.join(' ')}",${kind ? 'alpha' : 'beta'},${level}`);
  }
  return writeFile(dir, 'corpus.csv', `${rows.join('\n')}\n`);
}

for (const encoder of textEncoderNames) {
  test(`text encoder ${encoder}: learns the class and the value, reloads from its checkpoint, predicts raw text`, async () => {
    const data = corpus();
    const config = writeFile(
      dir,
      `${encoder}.yaml`,
      `data: {format: csv, path: ${data}, inputs: [{name: text, type: text, encoder: ${encoder}, embedding_dim: 16, heads: 2, max_length: 12, min_count: 1}]}
model: {backbone: {type: mlp, units: [16]}}
tasks:
  kind: {type: classification, target: kind}
  level: {type: regression, target: level}
training: {epochs: 12, batch_size: 16, optimizer: {type: adam, learning_rate: 0.01}}
`,
    );
    const run = path.join(dir, `run-${encoder}`);
    const summary = await trainCommand({ config, out: run, threads: 1 }, captureOutput(), silentProgress);
    const rows = metricRows(run);
    assert.ok(rows[rows.length - 1]['train/loss'] < rows[0]['train/loss'], 'loss falls');
    assert.ok(summary.test!.tasks.kind.metrics.accuracy > 0.9, `kind accuracy ${summary.test!.tasks.kind.metrics.accuracy}`);
    const evaluated = await evalCommand({ location: run, json: true }, captureOutput());
    assert.ok(Math.abs(evaluated.tasks.kind.metrics.accuracy - summary.test!.tasks.kind.metrics.accuracy) < 1e-9, 'the checkpoint reloads (custom layers deserialize)');
    const passages = writeFile(dir, `new-${encoder}.csv`, 'text\n"alpha the up up"\n"beta of"\n\n');
    const out = path.join(dir, `preds-${encoder}.jsonl`);
    await predictCommand({ location: run, data: passages, out }, captureOutput(), captureOutput());
    const preds = (await import('node:fs')).readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(preds.map((p) => p.kind), ['alpha', 'beta']);
  });
}

test('text messages: empty or missing text is no tokens with a count; long texts are cut with a count; non-UTF-8 bytes name the line', async () => {
  const file = writeFile(dir, 'holes.csv', 'text,kind\n"a b",x\n,y\n"",x\n"a b c d e f g h",y\n"b",x\n"a",y\n"a b",x\n"b a",y\n"a",x\n"b",y\n');
  const yaml = (f: string) => `data: {format: csv, path: ${f}, inputs: [{name: text, type: text, max_length: 4, min_count: 1}], missing: drop}\nmodel: {backbone: {type: mlp}}\ntasks:\n  kind: {type: classification, target: kind}\n`;
  const data = await loadData(configFrom(yaml(file)));
  assert.equal(data.train.size + data.val.size + data.test.size, 10, 'no row is dropped for an empty text');
  assert.ok(data.notes.some((n) => /column "text": 2 rows have no value; each reads as an empty text/.test(n)), data.notes.join('\n'));
  assert.ok(data.notes.some((n) => /column "text": 1 texts longer than max_length 4 tokens were cut to it/.test(n)), data.notes.join('\n'));
  const latin1 = path.join(dir, 'latin1.csv');
  writeFileSync(latin1, Buffer.concat([Buffer.from('text,kind\n"ok",x\n"caf'), Buffer.from([0xe9]), Buffer.from('",y\n')]));
  await assert.rejects(loadData(configFrom(yaml(latin1))), (e: unknown) => e instanceof DataError && /latin1\.csv:3: holds bytes that are not UTF-8/.test(e.message));
});

test('pretrained vectors (GloVe text format, relative to the config) start the embedding; a wrong width says which', async () => {
  const data = corpus();
  writeFile(dir, 'vectors.txt', 'alpha 1 0 0 0\nbeta 0 1 0 0\nnotinvocab 5 5 5 5\n');
  const yaml = (dim: number) => `data: {format: csv, path: ${data}, inputs: [{name: text, type: text, embedding_dim: ${dim}, min_count: 1, max_length: 12, embeddings: vectors.txt}]}
model: {backbone: {type: mlp, units: [8]}}
tasks:
  kind: {type: classification, target: kind}
training: {epochs: 1}
`;
  const run = path.join(dir, 'run-vectors');
  await trainCommand({ config: writeFile(dir, 'vectors.yaml', yaml(4)), out: run, threads: 1 }, captureOutput(), silentProgress);
  const state = (await loadData(configFrom(yaml(4).replace('vectors.txt', path.join(dir, 'vectors.txt'))))).preprocessing.inputs[0].state as TextState;
  assert.ok(state.vocab.includes('alpha'));
  await assert.rejects(
    trainCommand({ config: writeFile(dir, 'vectors8.yaml', yaml(8)), out: path.join(dir, 'run-v8'), threads: 1 }, captureOutput(), silentProgress),
    (e: unknown) => e instanceof DataError && /vectors\.txt:1: a vector of 4 values, but embedding_dim is 8/.test(e.message),
  );
  assert.throws(() => configFrom(yaml(6).replace('embeddings: vectors.txt', 'encoder: transformer, heads: 4')), /embedding_dim 6 is not a multiple of heads 4/);
});

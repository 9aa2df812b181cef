/**
 * predict.js of `mtl export`: an ES module for web pages whose `predict(rows)` gives what
 * a line of `mtl predict --out preds.jsonl` gives (less `row`). Its transforms are
 * mtl's own, written in from their compiled source (module-source.ts): reading the
 * cells and encoding them (rows.ts and the input types' encode/fill), packing the model
 * inputs (gatherBatch), the postprocessing (addPredictions: class names and
 * probabilities, multilabel sets, regression in the target's units, rounding) and the
 * custom layers of text encoders. Only the loading below is written for the browser.
 * The module is the same for every run: the run's part is in model.json and
 * preprocessing.json beside it.
 */
import { addPredictions, round } from '../../api/predict';
import { gatherBatch, modelInputGroups, sampleSize } from '../../data/batches';
import { MAX_ABS_VALUE, numericCell } from '../../data/numbers';
import { destandardize, sigmoid, softmaxRows } from '../../training/evaluate';
import { inputType, isPacked } from '../../inputs';
import { categoryInput } from '../../inputs/category';
import { numericInput } from '../../inputs/numeric';
import { PAD_ID, UNKNOWN_ID, WORD, textInput, tokenize, vocabIndex } from '../../inputs/text';
import { CellError } from '../../inputs/types';
import { LayerNorm, MaskedPooling, MultiHeadSelfAttention, PositionEmbedding, tokenMask } from '../../models/layers/text';
import { ModuleWriter } from './module-source';
import { encodeRows, rowCellText } from './rows';

/** The tfjs bundles predict.js imports, in load order (each a UMD script that extends globalThis.tf), by package. */
export const TFJS_BUNDLES = [
  { pkg: '@tensorflow/tfjs-core', file: 'tf-core.min.js' },
  { pkg: '@tensorflow/tfjs-backend-cpu', file: 'tf-backend-cpu.min.js' },
  { pkg: '@tensorflow/tfjs-layers', file: 'tf-layers.min.js' },
] as const;

/** The input types predict.js encodes (images are not decoded in the page). */
export const WEB_INPUT_TYPES = ['numeric', 'category', 'text'] as const;

/** The file beside predict.js with the run's preprocessing and tasks. */
export const PREPROCESSING_FILE = 'preprocessing.json';

type Shared = (...args: never[]) => unknown;
const fn = (f: unknown) => f as Shared;

export function predictModuleSource(mtlVersion: string): string {
  const m = new ModuleWriter();
  m.raw(`// predict.js, written by mtl ${mtlVersion} (mtl export). In a page:
//   import { predict } from './predict.js';
//   const [p] = await predict([{ bill_length_mm: '39.1', island: 'Torgersen' }]);
// Serve this folder over HTTP (browsers do not load modules from file://).
// All but the loading section at the end is mtl's own code, written in from its compiled source.`);
  m.raw(TFJS_BUNDLES.map((b) => `import './${b.file}';`).join('\n'));
  m.provide(['tf', 'tfl'], `const tf = globalThis.tf;\n// @tensorflow/tfjs-layers' exports are part of the same global.\nconst tfl = tf;`);

  m.raw('// ---- shared with mtl: reading and encoding cells');
  m.constant('MAX_ABS_VALUE', MAX_ABS_VALUE).share('numericCell', numericCell);
  m.share('CellError', fn(CellError));
  m.constant('PAD_ID', PAD_ID).constant('UNKNOWN_ID', UNKNOWN_ID).constant('WORD', WORD);
  m.provide(['indexCache'], `// text.ts's cache of vocabulary indexes.\nconst indexCache = new WeakMap();`);
  m.share('tokenize', fn(tokenize)).share('vocabIndex', fn(vocabIndex));
  const members = (type: { packed: unknown; fill: unknown; encode: unknown; readsMissingAsEmpty?: boolean }) => ({
    packed: fn(type.packed),
    fill: fn(type.fill),
    encode: fn(type.encode),
    ...(type.readsMissingAsEmpty ? { readsMissingAsEmpty: true } : {}),
  });
  m.shareObject('numericInput', members(numericInput)).shareObject('categoryInput', members(categoryInput)).shareObject('textInput', members(textInput));
  m.provide(['inputRegistry'], `const inputRegistry = { ${WEB_INPUT_TYPES.map((t) => `${t}: ${t}Input`).join(', ')} };`);
  m.share('inputType', fn(inputType)).share('isPacked', fn(isPacked));
  m.share('rowCellText', fn(rowCellText)).share('encodeRows', fn(encodeRows));

  m.raw('// ---- shared with mtl: model inputs');
  m.share('sampleSize', fn(sampleSize)).share('modelInputGroups', fn(modelInputGroups)).share('gatherBatch', fn(gatherBatch));
  m.provide(['augmentImage'], `function augmentImage() {\n  throw new Error('augmentImage: image inputs are not scored by predict.js');\n}`);

  m.raw('// ---- shared with mtl: the layers of text encoders');
  m.provide(['maskedPoolKernel'], `// mtl's fused masked-pooling kernel is Node's (wasm, WebGPU); here the layer runs its plain ops.\nfunction maskedPoolKernel() {\n  return undefined;\n}`);
  m.share('tokenMask', fn(tokenMask));
  const layers = { MaskedPooling, PositionEmbedding, MultiHeadSelfAttention, LayerNorm };
  for (const [name, layer] of Object.entries(layers)) m.share(name, fn(layer));
  m.raw(`for (const layer of [${Object.keys(layers).join(', ')}]) tf.serialization.registerClass(layer);`);

  m.raw('// ---- shared with mtl: predictions from the model outputs');
  m.share('softmaxRows', softmaxRows).share('sigmoid', sigmoid).share('destandardize', destandardize).share('round', round).share('addPredictions', fn(addPredictions));

  m.raw(`// ---- loading (written for the browser)
const here = (file) => new URL(file, import.meta.url).href;
let loading;

/** The model and the run's preprocessing, loaded once: { model, name, inputs, outputs, tasks, preprocessing }. */
export function load() {
  loading ??= (async () => {
    await tf.setBackend('cpu');
    const [model, exported] = await Promise.all([
      tf.loadLayersModel(here('model.json')),
      fetch(here('${PREPROCESSING_FILE}')).then((r) => {
        if (!r.ok) throw new Error(\`${PREPROCESSING_FILE}: HTTP \${r.status}\`);
        return r.json();
      }),
    ]);
    return { model, ...exported };
  })();
  // A failed load (say, the server was down) is tried again on the next call.
  loading.catch(() => (loading = undefined));
  return loading;
}

/**
 * One result per row, as a line of mtl predict --out preds.jsonl without "row": per task
 * its prediction (and "<task>.p", each class's or label's probability), or { error }.
 */
export async function predict(rows) {
  if (!Array.isArray(rows)) throw new TypeError('predict(rows): rows must be an array of objects, one per row');
  const notObject = rows.findIndex((r) => r === null || typeof r !== 'object' || Array.isArray(r));
  if (notObject >= 0) throw new TypeError(\`predict(rows): rows[\${notObject}] is not an object of column values\`);
  const { model, outputs, tasks, preprocessing } = await load();
  const { inputs, scored, errors } = encodeRows(rows, preprocessing);
  const results = new Map();
  scored.forEach((i) => results.set(i, {}));
  if (scored.length > 0) {
    const n = scored.length;
    const x = inputs.map(({ values, shape }) => tf.tensor(values, [n, ...shape]));
    const y = model.predict(x.length === 1 ? x[0] : x);
    const ys = Array.isArray(y) ? y : [y];
    for (const [i, task] of outputs.entries()) addPredictions(task, preprocessing, tasks[task], await ys[i].data(), scored, results);
    tf.dispose([...x, ...ys]);
  }
  return rows.map((_, i) => results.get(i) ?? { error: errors[i] });
}`);
  return m.toString();
}

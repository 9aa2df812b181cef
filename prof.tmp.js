const tf = require('@tensorflow/tfjs-core');
const tfl = require('@tensorflow/tfjs-layers');
require('@tensorflow/tfjs-backend-wasm'); require('@tensorflow/tfjs-backend-cpu');
const backend = process.argv[2] || 'wasm';
(async () => {
  await tf.setBackend(backend);
  if (process.argv[3] === 'k') require('/work/main/dist/src/backends/kernels/wasm.js').registerWasmTrainingKernels?.();
  const input = tfl.input({shape: [32,32,3]});
  const conv = (x, f, s, k=3) => tfl.layers.conv2d({filters: f, kernelSize: k, strides: s, padding: 'same', useBias: false}).apply(x);
  const bn = (x) => (process.argv[4]==='fbn' ? require('/work/main/dist/src/models/layers/batch-norm.js').batchNormalization({momentum: 0.9}) : tfl.layers.batchNormalization({momentum: 0.9})).apply(x);
  const relu = (x) => tfl.layers.activation({activation: 'relu'}).apply(x);
  let h = relu(bn(conv(input, 16, 1)));
  let cin = 16;
  for (const [i, f] of [16,32,64].entries()) for (let j=0;j<2;j++) {
    const s = i>0 && j===0 ? 2 : 1;
    let y = relu(bn(conv(h, f, s))); y = bn(conv(y, f, 1));
    const sc = (s!==1 || cin!==f) ? bn(conv(h, f, s, 1)) : h;
    h = relu(tfl.layers.add().apply([y, sc])); cin = f;
  }
  h = tfl.layers.globalAveragePooling2d({}).apply(h);
  const a = tfl.layers.dense({units: 10}).apply(h), b = tfl.layers.dense({units: 1}).apply(h);
  const model = tfl.model({inputs: input, outputs: [a, b]});
  const opt = tf.train.adam(1e-3);
  const x = tf.randomNormal([64,32,32,3]); const yc = tf.oneHot(tf.randomUniform([64],0,10,'int32'),10); const yr = tf.randomNormal([64,1]);
  const vars = model.trainableWeights.map(w => w.read());
  const step = () => tf.tidy(() => { const {value, grads} = tf.variableGrads(() => { const [p, r] = model.apply(x, {training: true}); return tf.add(tf.losses.softmaxCrossEntropy(yc, p), tf.losses.meanSquaredError(yr, r)); }, vars); opt.applyGradients(grads); return value.dataSync()[0]; });
  step(); step();
  const prof = await tf.profile(() => { step(); });
  const by = {}; for (const k of prof.kernels) { by[k.name] = (by[k.name]||0) + k.kernelTimeMs; }
  const total = Object.values(by).reduce((a,b)=>a+b,0);
  console.log('kernel total ms', total.toFixed(0), Object.entries(by).sort((a,b)=>b[1]-a[1]).slice(0,15).map(([k,v])=>`${k}:${v.toFixed(1)}`).join(' '));
  const n = 3; const t = Date.now(); for (let i=0;i<n;i++) step(); const dt = (Date.now()-t)/n;
  console.log(backend, 'ms/step', dt.toFixed(0), 'samples/s', (64000/dt).toFixed(1));
})().catch(e => console.log('ERR', e.message));

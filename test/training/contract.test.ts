/**
 * Contract of every registered sharing scheme × weighting method: a tiny model
 * trains, its loss falls, the task weights stay finite, and its whole state (model,
 * optimizer, weighting, schedule) round-trips through a checkpoint: an interrupted
 * and resumed run ends exactly where an uninterrupted one does.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { initBackend } from '../../src/backends';
import { trainCommand } from '../../src/api/train';
import { InterruptedError } from '../../src/errors';
import { sharingRegistry } from '../../src/models/sharing';
import { weightingRegistry } from '../../src/weighting';
import { gradientMethodNames } from '../../src/weighting/gradient';
import type { StopSignal } from '../../src/training/loop';
import { silentProgress, type ProgressReporter } from '../../src/training/progress';
import { writeMixedTable } from '../helpers/mixed-table';
import { captureOutput } from '../helpers/output';
import { checkpointWeights, maxAbsDiff, metricRows } from '../helpers/run';
import { repoRoot, tempDir, writeFile } from '../helpers/tmp';

before(async () => {
  await initBackend({ device: 'cpu', backend: 'wasm' });
});

const dir = tempDir();
const gradientMethod = (weighting: string) => (gradientMethodNames as readonly string[]).includes(weighting);
const sharingConfig: Record<string, string> = {
  hard: '{type: hard}',
  soft: '{type: soft, lambda: 0.01}',
  cross_stitch: '{type: cross_stitch}',
  mmoe: '{type: mmoe, experts: 2}',
  // One level per backbone stage: one on the mlp of units [16], three on the ResNet (stem and two stages).
  ple: '{type: ple}',
};

/** Soft sharing shares no weight, so a gradient method there is a config error (test/corpus/gradient-method-without-shared-weights). */
const refused = (sharing: string, weighting: string) => sharing === 'soft' && gradientMethod(weighting);

for (const sharing of Object.keys(sharingRegistry)) {
  for (const weighting of Object.keys(weightingRegistry)) {
    if (refused(sharing, weighting)) continue;
    test(`${sharing} sharing x ${weighting} weighting: trains, stays finite, resumes exactly`, async () => {
      assert.ok(sharingConfig[sharing], `add ${sharing} to this test`);
      const config = writeFile(
        dir,
        `${sharing}-${weighting}.yaml`,
        `data: {format: csv, path: ${path.join(repoRoot, 'datasets/penguins/penguins.csv')}, features: [island, bill_length_mm, bill_depth_mm, flipper_length_mm]}
model: {backbone: {type: mlp, units: [16], dropout: 0.1}, sharing: ${sharingConfig[sharing]}}
tasks:
  species: {type: classification, target: species}
  mass: {type: regression, target: body_mass_g}
training: {epochs: 5, batch_size: 32, optimizer: {type: adam, learning_rate: 0.01}, weighting: {type: ${weighting}}}
`,
      );
      const straight = path.join(dir, `${sharing}-${weighting}-straight`);
      await trainCommand({ config, out: straight }, captureOutput(), silentProgress);
      const rows = metricRows(straight);
      assert.ok(rows[4]['train/species/loss'] < rows[0]['train/species/loss'], 'species loss falls');
      assert.ok(rows[4]['train/mass/loss'] < rows[0]['train/mass/loss'], 'mass loss falls');
      for (const row of rows) {
        // A gradient method's weights are the coefficients of its combination: finite, of either sign.
        for (const task of ['species', 'mass']) assert.ok(Number.isFinite(row[`weight/${task}`]) && (gradientMethod(weighting) || row[`weight/${task}`] > 0), `weight/${task} ${row[`weight/${task}`]}`);
      }

      const resumed = path.join(dir, `${sharing}-${weighting}-resumed`);
      const stop: StopSignal = { requested: false };
      let epoch = 0;
      const progress: ProgressReporter = { ...silentProgress, startEpoch: (e) => (epoch = e), step: (s) => void (epoch === 3 && s === 2 && (stop.requested = true)) };
      await assert.rejects(trainCommand({ config, out: resumed }, captureOutput(), progress, stop), InterruptedError);
      await trainCommand({ resume: resumed }, captureOutput(), silentProgress);
      assert.ok(maxAbsDiff(checkpointWeights(resumed), checkpointWeights(straight)) <= 1e-6, 'weights after resume');
      assert.deepEqual(metricRows(resumed), rows);
    });
  }
}

// Every scheme and weighting with image inputs, alone (through a ResNet backbone) and
// beside numeric and category inputs (image encoder + combiner + mlp), on partly
// labelled targets (score is missing in every 3rd row).
const inputMixes: Record<string, { inputs: string; backbone: string }> = {
  image: { inputs: '[{name: image, type: image}]', backbone: '{type: resnet, filters: [4, 8], blocks: [1, 1]}' },
  mixed: {
    inputs: '[{name: image, type: image, encoder: {filters: [4], blocks: [1]}}, {name: x, type: numeric}, {name: color, type: category, encoder: embedding, dim: 2}]',
    backbone: '{type: mlp, units: [16]}',
  },
};
let mixedCsv: string | undefined;
for (const [mix, { inputs, backbone }] of Object.entries(inputMixes)) {
  for (const sharing of Object.keys(sharingRegistry)) {
    for (const weighting of Object.keys(weightingRegistry)) {
      if (refused(sharing, weighting)) continue;
      test(`${mix} inputs x ${sharing} sharing x ${weighting} weighting: both losses fall and stay finite`, async () => {
        mixedCsv ??= writeMixedTable(path.join(dir, 'mixed'), 96);
        const config = writeFile(
          dir,
          `${mix}-${sharing}-${weighting}.yaml`,
          `data: {format: csv, path: ${mixedCsv}, inputs: ${inputs}}
model: {backbone: ${backbone}, sharing: ${sharingConfig[sharing]}}
tasks:
  total: {type: classification, target: label}
  score: {type: regression, target: score}
training: {epochs: 4, batch_size: 16, optimizer: {type: adam, learning_rate: 0.01}, weighting: {type: ${weighting}}}
`,
        );
        const out = path.join(dir, `${mix}-${sharing}-${weighting}`);
        const summary = await trainCommand({ config, out, threads: 1 }, captureOutput(), silentProgress);
        const rows = metricRows(out);
        for (const task of ['total', 'score']) {
          assert.ok(rows.every((r) => Number.isFinite(r[`train/${task}/loss`]) && Number.isFinite(r[`weight/${task}`])), `${task}: finite`);
          assert.ok(rows[3][`train/${task}/loss`] < rows[0][`train/${task}/loss`], `${task} loss falls`);
        }
        assert.ok(summary.test!.tasks.score.n < summary.test!.tasks.total.n, 'score is scored on its labelled rows only');
      });
    }
  }
}

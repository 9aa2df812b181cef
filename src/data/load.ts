/** The data layer's entry points: training data from a config, and new files for eval/predict. */
import type { Config, TaskConfig } from '../config/schema';
import { applyImagePreprocessing, loadIdxData, loadIdxStreamed, openIdxBlocks } from './images';
import { loadParquetData, loadParquetReader, parquetWithPreprocessing } from './parquet';
import { loadStreamed, NewFileBlocks, streamingChoice, type NewFileReader } from './stream';
import { applyTablePreprocessing, loadCsvData, tableFormatOf } from './tabular';
import type { LoadedData, Preprocessing, Split, UnscorableRow } from './types';
import { collectGarbage } from './heap-guard';

/** Reads, splits (seeded) and preprocesses (fitted on train) the data a config names. */
export async function loadData(config: Config): Promise<LoadedData> {
  // The streaming choice counts a Parquet table's rows (for its decoded images) from the footer.
  if (config.data.format === 'parquet') await loadParquetReader();
  const streaming = streamingChoice(config);
  if (config.data.format === 'idx' && streaming.stream) return loadIdxStreamed(config, streaming.note!);
  if (streaming.stream) return loadStreamed(config, streaming.note!);
  const data = config.data.format === 'idx' ? loadIdxData(config) : config.data.format === 'parquet' ? await loadParquetData(config) : loadCsvData(config);
  collectGarbage();
  return data;
}

export type DataSource = { csv: string } | { images: string; targets: Record<string, string> };

/**
 * A new file with the preprocessing saved at training (nothing refitted).
 * strict: the first problem throws a DataError; otherwise rows that cannot be
 * scored are listed in `unscorable` and left out.
 */
export async function loadWithPreprocessing(
  preprocessing: Preprocessing,
  tasks: Record<string, TaskConfig>,
  source: DataSource,
  options: { requireTargets: boolean; strict: boolean },
): Promise<{ split: Split; unscorable: UnscorableRow[]; notes: string[] }> {
  if ('csv' in source && tableFormatOf(source.csv, preprocessing.csv?.format ?? 'csv') === 'parquet') return parquetWithPreprocessing(preprocessing, tasks, source.csv, options);
  if ('csv' in source) return applyTablePreprocessing(preprocessing, tasks, source.csv, options);
  return { ...applyImagePreprocessing(preprocessing, tasks, source.images, source.targets, options), notes: [] };
}

/**
 * A new file with the saved preprocessing read a block at a time (eval --data and predict
 * on data larger than data.memory_budget, see newFileStreaming): a CSV, JSONL or Parquet
 * table, an image folder, or IDX images.
 */
export async function openNewFileBlocks(
  preprocessing: Preprocessing,
  tasks: Record<string, TaskConfig>,
  source: DataSource,
  budget: number,
  options: { requireTargets: boolean; strict: boolean },
): Promise<NewFileReader> {
  if ('csv' in source) return NewFileBlocks.open(preprocessing, tasks, source.csv, budget, options);
  return openIdxBlocks(preprocessing, tasks, source.images, source.targets, budget, options);
}

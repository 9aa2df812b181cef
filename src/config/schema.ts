/**
 * The one schema of an experiment file, with every default. Cross-field rules
 * (a loss that fits its task type, split fractions that add up, ...) live in
 * `checks.ts`; this file only says what each key may hold.
 */
import { z } from 'zod';

const identifier = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'a name of letters, digits, "_" or "-", starting with a letter');
const nonEmpty = z.string().min(1);
const positiveInt = z.int().min(1);
const fraction = z.number().min(0).max(1);

// ---------------------------------------------------------------- data

/** Fractions of the file's rows that go to each split (assigned before any row is dropped); seeded. */
const splitFractions = z.strictObject({
  train: fraction.default(0.7),
  val: fraction.default(0.15),
  test: fraction.default(0.15),
  /** Seed of the data (split, derived rotation angles); default: the top-level seed (mtl compare fixes it across seeds). */
  seed: z.int().min(0).max(2 ** 31 - 1).optional(),
  /** A classification task whose class proportions every split keeps. */
  stratify: identifier.optional(),
  /** Tables: a column whose rows sharing a value (one subject, one document) all go to one split. */
  group: nonEmpty.optional(),
});

const dataCommon = {
  /** How the rows are divided when no explicit split files are given. */
  split: splitFractions.prefault({}),
  /** Use only the first N rows/images of each file (handy for quick runs on big sets). */
  limit: positiveInt.optional(),
  /** Standardize regression targets with train-split statistics (metrics stay in the target's units). */
  standardize_targets: z.boolean().default(true),
};

/** A ResNet small enough to encode one image input beside others (see inputs/image.ts). */
const imageEncoder = z.strictObject({
  block: z.enum(['basic', 'bottleneck']).default('basic'),
  filters: z.array(positiveInt).min(1).default([16, 32]),
  blocks: z.array(positiveInt).min(1).default([1, 1]),
  stem: z
    .strictObject({ filters: positiveInt.default(16), kernel_size: positiveInt.default(3), strides: positiveInt.default(1), pool: z.boolean().default(false) })
    .optional(),
});

/** The image encoder's settings when the config gives none (IDX images, say). */
export const defaultImageEncoder = (): z.infer<typeof imageEncoder> => imageEncoder.parse({});

/** The text encoders (src/inputs/text-encoders/, one file each). */
export const textEncoderNames = ['bag', 'cnn', 'transformer'] as const;

/** One input column and its type (src/inputs/, one file per type). */
export const inputSchema = z.discriminatedUnion('type', [
  z.strictObject({
    /** The column (CSV header, JSONL key). */
    name: nonEmpty,
    type: z.literal('numeric'),
    /** Scale with the train mean and std; default: data.standardize. */
    standardize: z.boolean().optional(),
  }),
  z.strictObject({
    name: nonEmpty,
    type: z.literal('category'),
    /** `one_hot` over the train categories, or a learned `embedding` of width `dim`. */
    encoder: z.enum(['one_hot', 'embedding']).default('one_hot'),
    dim: positiveInt.default(8),
  }),
  z.strictObject({
    name: nonEmpty,
    type: z.literal('image'),
    /** [height, width] every image is resized to; without it all images must share one size. */
    size: z.tuple([positiveInt, positiveInt]).optional(),
    /** 1 (gray) or 3 (RGB); default: the first image's. */
    channels: z.union([z.literal(1), z.literal(3)]).optional(),
    /** The ResNet encoding this image when the model has other inputs (alone, the backbone does). */
    encoder: imageEncoder.prefault({}),
    /** Training-only augmentation, seeded: horizontal flips, a random crop of the image padded by `crop_padding`, shifts up to `translate` pixels. */
    augment: z
      .strictObject({ flip: z.boolean().default(false), crop_padding: z.int().min(0).default(0), translate: z.int().min(0).default(0) })
      .optional(),
  }),
  z.strictObject({
    name: nonEmpty,
    type: z.literal('text'),
    /** `words` (Unicode letters and digits, lowercased by default) or `char_ngrams` (n-grams of `ngram` characters within words). */
    tokenizer: z.enum(['words', 'char_ngrams']).default('words'),
    ngram: z.int().min(1).max(8).default(3),
    lowercase: z.boolean().default(true),
    /** The vocabulary: the train split's tokens seen at least `min_count` times, the `max_vocab` most frequent. */
    max_vocab: positiveInt.default(20000),
    min_count: positiveInt.default(2),
    /** Tokens per text; longer texts are cut, shorter ones padded. */
    max_length: positiveInt.default(128),
    encoder: z.enum(textEncoderNames).default('bag'),
    embedding_dim: positiveInt.default(64),
    /** cnn: convolution layers; transformer: attention blocks. */
    layers: positiveInt.default(1),
    /** transformer: attention heads (embedding_dim must be a multiple). */
    heads: positiveInt.default(4),
    dropout: z.number().min(0).lt(1).default(0),
    /** cnn: width of each convolution. */
    kernel_size: positiveInt.default(3),
    /** Pretrained word vectors in the GloVe / word2vec text format (relative to the config file). */
    embeddings: nonEmpty.optional(),
  }),
]);

/** The derived rotation target (see format: idx); for tables it rotates an image input. */
const rotationSchema = z.strictObject({
  target: identifier.default('angle'),
  max_degrees: z.number().gt(0).max(180).default(45),
  /** Tables: the image input to rotate; default: the only one. */
  input: nonEmpty.optional(),
});

/** Keys shared by the table formats (CSV, JSONL). */
const tableFields = {
  /** Typed input columns; instead of `features` (numbers and categories, types detected). */
  inputs: z.array(inputSchema).min(1).optional(),
  /** Rotate an image input by a seeded random angle per row and expose the angle as a regression target. */
  rotation: rotationSchema.optional(),
  /** One file, divided into train/val/test by `split`. Relative paths are relative to the config file. */
  path: nonEmpty.optional(),
  /** Explicit files per split instead of `path`; a missing val/test is carved from train by `split`. */
  splits: z
    .strictObject({ train: nonEmpty, val: nonEmpty.optional(), test: nonEmpty.optional() })
    .optional(),
  /** Feature columns; default: every column that is not a target. */
  features: z.array(nonEmpty).min(1).optional(),
  /** Columns to one-hot encode; default: the feature columns holding non-numeric values. */
  categorical: z.array(nonEmpty).optional(),
  /** Rows with a missing feature: `drop` them, or `impute` (mean for numeric, mode for categorical). */
  missing: z.enum(['drop', 'impute']).default('drop'),
  /**
   * Rows missing the label of some tasks: `mask` keeps a row while any task has its label
   * (each task's loss and metrics use its labelled rows); `drop` drops it.
   */
  missing_targets: z.enum(['mask', 'drop']).default('mask'),
  /** Cell values that mean "missing". */
  na_values: z.array(z.string()).default(['NA', '', 'NaN', 'nan', 'null', 'N/A']),
  /** Standardize numeric features with train-split mean and std. */
  standardize: z.boolean().default(true),
  ...dataCommon,
};


const csvData = z.strictObject({
  format: z.literal('csv'),
  ...tableFields,
  delimiter: z.string().length(1).default(','),
});

/** One JSON object per line; keys are the columns, null or an absent key is a missing value. */
const jsonlData = z.strictObject({
  format: z.literal('jsonl'),
  ...tableFields,
});

/** The columns an image folder reads as: each file's path, and the subfolder it is in. */
export const IMAGE_FOLDER_IMAGE = 'image';
export const IMAGE_FOLDER_CLASS = 'class';

/** `path/<class>/*.png|jpg`: one image input named `image` and the class as column `class`. */
const imageFolderData = z.strictObject({
  format: z.literal('image_folder'),
  /** The folder holding one subfolder of images per class. */
  path: nonEmpty,
  /** Options of the image input (as for `type: image` in data.inputs). */
  image: inputSchema.options[2].omit({ name: true, type: true }).prefault({}),
  rotation: rotationSchema.omit({ input: true }).optional(),
  ...dataCommon,
});

const idxSource = z.strictObject({
  images: nonEmpty,
  targets: z.record(identifier, nonEmpty),
});

const idxData = z.strictObject({
  format: z.literal('idx'),
  /** IDX image file (gzipped or not), N x H x W or N x H x W x C unsigned bytes. */
  images: nonEmpty.optional(),
  /** Target name -> IDX file with one value per image (labels as ubyte, values as float). */
  targets: z.record(identifier, nonEmpty).default({}),
  splits: z
    .strictObject({ train: idxSource, val: idxSource.optional(), test: idxSource.optional() })
    .optional(),
  /**
   * Rotate every image by a seeded random angle in [-max_degrees, max_degrees] and expose
   * the angle (in degrees) as a regression target named `target`.
   */
  rotation: rotationSchema.omit({ input: true }).optional(),
  ...dataCommon,
});

export const dataSchema = z.discriminatedUnion('format', [csvData, jsonlData, imageFolderData, idxData]);

// ---------------------------------------------------------------- model

export const activationNames = ['relu', 'elu', 'selu', 'gelu', 'swish', 'tanh', 'sigmoid', 'linear'] as const;

const mlpBackbone = z.strictObject({
  type: z.literal('mlp'),
  /** Width of each hidden dense layer. */
  units: z.array(positiveInt).min(1).default([64, 64]),
  activation: z.enum(activationNames).default('relu'),
  /** Dropout rate after each hidden layer (0 = none). */
  dropout: z.number().min(0).lt(1).default(0),
  /** Batch normalization before each activation. */
  batch_norm: z.boolean().default(false),
  /** Initialize from a saved tfjs model.json (weights matched by layer name). */
  weights: nonEmpty.optional(),
});

const resnetStem = z.strictObject({
  filters: positiveInt.default(16),
  kernel_size: positiveInt.default(3),
  strides: positiveInt.default(1),
  /** 3x3 stride-2 max pooling after the stem convolution. */
  pool: z.boolean().default(false),
});

const resnetBackbone = z.strictObject({
  type: z.literal('resnet'),
  /** Shapes shaped like keras.applications (without the top); other keys then may not be given. */
  preset: z.enum(['resnet18', 'resnet34', 'resnet50']).optional(),
  block: z.enum(['basic', 'bottleneck']).optional(),
  /** Filters per stage (bottleneck blocks output 4x this). */
  filters: z.array(positiveInt).min(1).optional(),
  /** Residual blocks per stage; same length as `filters`. */
  blocks: z.array(positiveInt).min(1).optional(),
  stem: resnetStem.optional(),
  weights: nonEmpty.optional(),
});

export const backboneSchema = z.discriminatedUnion('type', [mlpBackbone, resnetBackbone]);

export const sharingSchema = z.discriminatedUnion('type', [
  /** One backbone, every task's head on its features. */
  z.strictObject({ type: z.literal('hard') }),
  /**
   * A backbone per task; the loss adds lambda · Σ_{a<b} ‖θ_a − θ_b‖ over corresponding
   * trainable weights (squared L2 or L1).
   */
  z.strictObject({
    type: z.literal('soft'),
    lambda: z.number().min(0).default(0.001),
    penalty: z.enum(['l2', 'l1']).default('l2'),
    /** Restrict the penalty to these backbone layers (names as in a single backbone, e.g. dense_1). */
    layers: z.array(nonEmpty).min(1).optional(),
  }),
  /** A backbone per task, mixed after each stage by learned task-by-task matrices (Misra et al. 2016). */
  z.strictObject({
    type: z.literal('cross_stitch'),
    /** Initial weight of a task's own activations; the rest is shared equally among the others. */
    init_self: z.number().gt(0).max(1).default(0.9),
  }),
]);

const modelSchema = z.strictObject({
  backbone: backboneSchema,
  sharing: sharingSchema.prefault({ type: 'hard' }),
});

// ---------------------------------------------------------------- tasks

export const classificationLosses = ['sparse_categorical_crossentropy', 'categorical_crossentropy'] as const;
export const regressionLosses = ['mse', 'mae', 'huber'] as const;
export const classificationMetrics = ['accuracy', 'macro_f1', 'cross_entropy'] as const;
export const regressionMetrics = ['mae', 'rmse', 'r2'] as const;

const classificationTask = z.strictObject({
  type: z.literal('classification'),
  /** Column (CSV) or target name (IDX) holding the class labels. */
  target: nonEmpty,
  loss: z.enum(classificationLosses).default('sparse_categorical_crossentropy'),
  /** Fixed weight w_t in L = sum_t w_t L_t. */
  weight: z.number().min(0).default(1),
  metrics: z.array(z.enum(classificationMetrics)).min(1).default(['accuracy', 'macro_f1', 'cross_entropy']),
  /** Number of classes; default: the classes found in the training data. */
  num_classes: z.int().min(2).optional(),
  /** Label smoothing for categorical_crossentropy. */
  label_smoothing: z.number().min(0).lt(1).default(0),
});

const regressionTask = z.strictObject({
  type: z.literal('regression'),
  /** Column(s) to predict; K columns give a head with K linear outputs. */
  target: z.union([nonEmpty, z.array(nonEmpty).min(1)]),
  loss: z.enum(regressionLosses).default('mse'),
  /** Threshold of the huber loss, in standardized units. */
  huber_delta: z.number().gt(0).default(1),
  weight: z.number().min(0).default(1),
  metrics: z.array(z.enum(regressionMetrics)).min(1).default(['mae', 'rmse', 'r2']),
});

export const taskSchema = z.discriminatedUnion('type', [classificationTask, regressionTask]);

// ---------------------------------------------------------------- training

const optimizerSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('adam'),
    learning_rate: z.number().gt(0).default(0.001),
    beta_1: z.number().gt(0).lt(1).default(0.9),
    beta_2: z.number().gt(0).lt(1).default(0.999),
    epsilon: z.number().gt(0).default(1e-7),
  }),
  z.strictObject({
    type: z.literal('sgd'),
    learning_rate: z.number().gt(0).default(0.01),
    momentum: z.number().min(0).lt(1).default(0),
    nesterov: z.boolean().default(false),
  }),
  z.strictObject({
    type: z.literal('rmsprop'),
    learning_rate: z.number().gt(0).default(0.001),
    rho: z.number().gt(0).lt(1).default(0.9),
    momentum: z.number().min(0).lt(1).default(0),
    epsilon: z.number().gt(0).default(1e-7),
  }),
]);

const monitorMode = z.enum(['auto', 'min', 'max']);

const lrScheduleSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({
    type: z.literal('step'),
    /** Multiply the learning rate by `gamma` every `step_size` epochs. */
    step_size: positiveInt.default(10),
    gamma: z.number().gt(0).max(1).default(0.1),
  }),
  z.strictObject({
    type: z.literal('cosine'),
    /** Cosine decay from the initial rate to `min_lr` over the run's epochs. */
    min_lr: z.number().min(0).default(0),
    /** Linear warm-up epochs before the decay. */
    warmup_epochs: z.int().min(0).default(0),
  }),
  z.strictObject({
    type: z.literal('plateau'),
    /** Metric watched; default: the checkpoint monitor. */
    monitor: nonEmpty.optional(),
    mode: monitorMode.default('auto'),
    factor: z.number().gt(0).lt(1).default(0.5),
    patience: z.int().min(0).default(3),
    min_lr: z.number().min(0).default(0),
    min_delta: z.number().min(0).default(0),
  }),
]);

const earlyStoppingSchema = z.strictObject({
  /** Metric key such as val/loss or val/<task>/accuracy; default: the checkpoint monitor. */
  monitor: nonEmpty.optional(),
  /** Epochs without improvement before stopping. */
  patience: positiveInt.default(10),
  mode: monitorMode.default('auto'),
  min_delta: z.number().min(0).default(0),
});

const checkpointSchema = z.strictObject({
  /** Metric that decides checkpoints/best. */
  monitor: nonEmpty.default('val/loss'),
  mode: monitorMode.default('auto'),
});

const weightingSchema = z.discriminatedUnion('type', [
  /** L = Σ w_t L_t with each task's `weight`. */
  z.strictObject({ type: z.literal('fixed') }),
  /** Learned log-variances s_t (Kendall, Gal and Cipolla 2018). */
  z.strictObject({ type: z.literal('uncertainty') }),
  /** Dynamic weight average (Liu, Johns and Davison 2019). */
  z.strictObject({ type: z.literal('dwa'), temperature: z.number().gt(0).default(2) }),
  /** GradNorm (Chen et al. 2018). */
  z.strictObject({
    type: z.literal('gradnorm'),
    /** Asymmetry: how strongly slow tasks are pushed. */
    alpha: z.number().min(0).default(1.5),
    /** Step size of the weights' own gradient descent. */
    learning_rate: z.number().gt(0).default(0.025),
  }),
]);

const trainingSchema = z.strictObject({
  epochs: positiveInt.default(20),
  batch_size: positiveInt.default(32),
  optimizer: optimizerSchema.prefault({ type: 'adam' }),
  lr_schedule: lrScheduleSchema.prefault({ type: 'none' }),
  /** Omit to train for all epochs. */
  early_stopping: earlyStoppingSchema.optional(),
  checkpoint: checkpointSchema.prefault({}),
  /** What to do when a loss or gradient is NaN or infinite. */
  on_nan: z.enum(['stop', 'skip_batch']).default('stop'),
  /** How task losses are weighted. */
  weighting: weightingSchema.prefault({ type: 'fixed' }),
  /** Per-epoch task-gradient diagnostics on the shared parameters. */
  diagnostics: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Warn when a task pair's gradients conflict (cosine < 0) this many epochs in a row. */
      conflict_epochs: positiveInt.default(3),
    })
    .prefault({}),
});

// ---------------------------------------------------------------- top level

export const configSchema = z.strictObject({
  /** Run name; runs go to <output.dir>/<name>/<timestamp>/. Default: the config file's name. */
  name: identifier.optional(),
  seed: z.int().min(0).max(2 ** 31 - 1).default(42),
  /** auto: the fastest engine that loads; gpu: CUDA or fail; cpu: never the GPU. */
  device: z.enum(['auto', 'gpu', 'cpu']).default('auto'),
  /**
   * Data-parallel training threads on the wasm and cpu engines (each takes a shard of
   * every batch); auto: one per core (up to 4) for ResNets, 1 for MLPs.
   */
  threads: z.union([z.literal('auto'), z.int().min(1).max(64)]).default('auto'),
  data: dataSchema,
  model: modelSchema,
  tasks: z.record(identifier, taskSchema).refine((t) => Object.keys(t).length > 0, 'at least one task'),
  training: trainingSchema.prefault({}),
  output: z.strictObject({ dir: nonEmpty.default('runs') }).prefault({}),
});

export type Config = z.output<typeof configSchema>;
export type DataConfig = Config['data'];
export type CsvDataConfig = Extract<DataConfig, { format: 'csv' }>;
/** The table formats: one row per sample, columns by name. */
export type InputConfig = z.infer<typeof inputSchema>;
export type TableDataConfig = Extract<DataConfig, { format: 'csv' | 'jsonl' }>;
export type ImageFolderDataConfig = Extract<DataConfig, { format: 'image_folder' }>;
export type IdxDataConfig = Extract<DataConfig, { format: 'idx' }>;
export type BackboneConfig = Config['model']['backbone'];
export type MlpBackboneConfig = Extract<BackboneConfig, { type: 'mlp' }>;
export type ResnetBackboneConfig = Extract<BackboneConfig, { type: 'resnet' }>;
export type SharingConfig = Config['model']['sharing'];
export type TaskConfig = Config['tasks'][string];
export type ClassificationTaskConfig = Extract<TaskConfig, { type: 'classification' }>;
export type RegressionTaskConfig = Extract<TaskConfig, { type: 'regression' }>;
export type TrainingConfig = Config['training'];
export type OptimizerConfig = TrainingConfig['optimizer'];
export type LrScheduleConfig = TrainingConfig['lr_schedule'];
export type WeightingConfig = TrainingConfig['weighting'];
export type MonitorMode = z.output<typeof monitorMode>;

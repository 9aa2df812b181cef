/**
 * The one schema of an experiment file, with every default. Cross-field rules
 * (a loss that fits its task type, split fractions that add up, ...) live in
 * `checks.ts`; this file only says what each key may hold.
 */
import { z } from 'zod';
import { gradientMethodDefaults, type GradientMethodName } from '../weighting/gradient';
import { mgdaNormalizations } from '../weighting/gradient/mgda';

const identifier = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'a name of letters, digits, "_" or "-", starting with a letter');
const nonEmpty = z.string().min(1);
const positiveInt = z.int().min(1);
const fraction = z.number().min(0).max(1);

// ---------------------------------------------------------------- data

/** Cells read as missing unless data.na_values says otherwise. */
export const defaultNaValues = ['NA', '', 'NaN', 'nan', 'null', 'N/A'] as const;

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
export const textPoolingNames = ['mean', 'max', 'mean_max'] as const;

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
    /** How token vectors become one: `mean` or `max` over the text's tokens (padding left out), or `mean_max`, both side by side. Default: max for cnn, mean otherwise. */
    pooling: z.enum(textPoolingNames).optional(),
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

/** A size in bytes: a number, or a number with B, KB, MB or GB (powers of 1024). */
export const memorySize = z.union([positiveInt, z.string().regex(/^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|KiB|MiB|GiB)\s*$/i, 'a size such as 512MB or 4GB')]);

/** Bytes of a memory_budget value. */
export function memoryBytes(size: number | string): number {
  if (typeof size === 'number') return size;
  const [, value, unit] = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(size)!;
  const scale: Record<string, number> = { b: 1, kb: 2 ** 10, kib: 2 ** 10, mb: 2 ** 20, mib: 2 ** 20, gb: 2 ** 30, gib: 2 ** 30 };
  return Math.round(Number(value) * scale[unit.toLowerCase()]);
}

/** Data larger than memory (tables, image folders and IDX images): read from disk a block at a time. */
const streamingFields = {
  /**
   * Read the data from disk in chunks instead of holding it: preprocessing fitted in one
   * streaming pass, each epoch through a seeded shuffle buffer. Default: on when the
   * data (decoded images included) is larger than `memory_budget`.
   */
  streaming: z.boolean().optional(),
  /** Memory the data may take (`512MB`, `4GB`, or bytes); streamed data stays within it. */
  memory_budget: memorySize.default('4GB'),
  /** Streaming: rows in the shuffle buffer; default: as many as half the budget holds. */
  shuffle_buffer: positiveInt.optional(),
};

/** Keys shared by the table formats (CSV, JSONL, Parquet). */
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
  na_values: z.array(z.string()).default([...defaultNaValues]),
  /** Standardize numeric features with train-split mean and std. */
  standardize: z.boolean().default(true),
  ...streamingFields,
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

/** Apache Parquet files, read row group by row group; a null is a missing value. */
const parquetData = z.strictObject({
  format: z.literal('parquet'),
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
  ...streamingFields,
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
  ...streamingFields,
  ...dataCommon,
});

export const dataSchema = z.discriminatedUnion('format', [csvData, jsonlData, parquetData, imageFolderData, idxData]);

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

/**
 * A small LeNet-style conv net (the MultiLeNet trunk of Sener and Koltun 2018): per entry of
 * `filters` a conv (kernel_size x kernel_size) -> ReLU -> 2x2 max pooling, then flatten and
 * the dense layers of `units`, each -> ReLU (-> dropout).
 */
const cnnBackbone = z.strictObject({
  type: z.literal('cnn'),
  /** Filters of each convolution block (conv -> ReLU -> max-pool 2). */
  filters: z.array(positiveInt).min(1).default([10, 20]),
  /** Width and height of every convolution kernel. */
  kernel_size: positiveInt.default(5),
  /** `valid` (no padding: each conv shrinks the image by kernel_size - 1, as in LeNet) or `same`. */
  padding: z.enum(['valid', 'same']).default('valid'),
  /** Width of each dense layer after the flatten. */
  units: z.array(positiveInt).min(1).default([50]),
  /** Dropout rate after each dense layer (0 = none). */
  dropout: z.number().min(0).lt(1).default(0),
  /** Initialize from a saved tfjs model.json (weights matched by layer name). */
  weights: nonEmpty.optional(),
});

export const backboneSchema = z.discriminatedUnion('type', [mlpBackbone, resnetBackbone, cnnBackbone]);

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
  /**
   * Multi-gate mixture of experts (Ma et al. 2018): `experts` copies of the backbone shared
   * by every task, and per task a softmax gate (a dense layer on the input) that mixes them.
   */
  z.strictObject({
    type: z.literal('mmoe'),
    experts: positiveInt.default(3),
  }),
  /**
   * Progressive layered extraction (Tang et al. 2020): `levels` CGC layers, each with
   * `shared_experts` experts for all tasks and `task_experts` per task, a gate per task over
   * its own and the shared experts, and at inner levels a shared gate over all of them.
   * The backbone's stages are divided among the levels; default: one level per stage.
   */
  z.strictObject({
    type: z.literal('ple'),
    shared_experts: positiveInt.default(1),
    task_experts: positiveInt.default(1),
    levels: positiveInt.optional(),
  }),
]);

/**
 * A task head: hidden dense layers on the shared features (each -> activation -> dropout),
 * then the output layer (logits, or linear for regression). The default is the output
 * layer alone; `units: [50, 50]` is MultiLeNet's 50-50-10 head.
 */
const headSchema = z.strictObject({
  /** Width of each hidden dense layer before the output layer; [] (default): none. */
  units: z.array(positiveInt).default([]),
  activation: z.enum(activationNames).default('relu'),
  /** Dropout rate after each hidden layer (0 = none). */
  dropout: z.number().min(0).lt(1).default(0),
});

const modelSchema = z.strictObject({
  backbone: backboneSchema,
  sharing: sharingSchema.prefault({ type: 'hard' }),
  /** Every task's head, unless the task gives its own `head`. */
  head: headSchema.prefault({}),
});

/** A task's own head: replaces model.head whole (keys left out take their defaults, not model.head's). */
const taskHead = headSchema.optional();

// ---------------------------------------------------------------- tasks

export const classificationLosses = ['sparse_categorical_crossentropy', 'categorical_crossentropy', 'focal'] as const;
export const regressionLosses = ['mse', 'mae', 'huber'] as const;
export const multilabelLosses = ['binary_crossentropy', 'focal'] as const;
export const classificationMetrics = ['accuracy', 'macro_f1', 'cross_entropy', 'roc_auc', 'precision', 'recall', 'top_k_accuracy'] as const;
export const regressionMetrics = ['mae', 'rmse', 'r2'] as const;
/** `per_label` stands for precision.<label>, recall.<label> and f1.<label> of every label. */
export const multilabelMetrics = ['micro_f1', 'macro_f1', 'micro_precision', 'micro_recall', 'macro_precision', 'macro_recall', 'subset_accuracy', 'roc_auc', 'binary_cross_entropy', 'per_label'] as const;

/** Focusing parameter γ of the focal loss (Lin et al. 2017): (1 − p_t)^γ scales each term; 0 is cross-entropy. */
const focalGamma = z.number().min(0).optional();
/** Focal loss α: the weight of the positive class (binary classification: the second class), 1 − α of the negative. */
const focalAlpha = fraction.optional();

const classificationTask = z.strictObject({
  type: z.literal('classification'),
  /** Column (CSV) or target name (IDX) holding the class labels. */
  target: nonEmpty,
  loss: z.enum(classificationLosses).default('sparse_categorical_crossentropy'),
  /** Fixed weight w_t in L = sum_t w_t L_t. */
  weight: z.number().min(0).default(1),
  head: taskHead,
  metrics: z.array(z.enum(classificationMetrics)).min(1).default(['accuracy', 'macro_f1', 'cross_entropy']),
  /** Number of classes; default: the classes found in the training data. */
  num_classes: z.int().min(2).optional(),
  /** Label smoothing for categorical_crossentropy (and focal). */
  label_smoothing: z.number().min(0).lt(1).default(0),
  /**
   * Per-class loss weights: `balanced` (n_samples / (n_classes · count_c) over the train
   * split, as scikit-learn) or `{class: weight}` (unlisted classes 1). The task's loss is
   * Σ w_i · ℓ_i / Σ w_i over the batch's labelled rows, as PyTorch's weighted mean.
   */
  class_weight: z.union([z.literal('balanced'), z.record(nonEmpty, z.number().min(0))]).optional(),
  /** loss: focal: the focusing parameter γ; default 2. */
  focal_gamma: focalGamma,
  /** loss: focal, two classes: α for the second class, 1 − α for the first; default none (1 for both). */
  focal_alpha: focalAlpha,
  /** k of top_k_accuracy (the label among the k most probable classes); default 5; needs more than k classes. */
  top_k: positiveInt.optional(),
});

const regressionTask = z.strictObject({
  type: z.literal('regression'),
  /** Column(s) to predict; K columns give a head with K linear outputs. */
  target: z.union([nonEmpty, z.array(nonEmpty).min(1)]),
  loss: z.enum(regressionLosses).default('mse'),
  /** Threshold of the huber loss, in standardized units. */
  huber_delta: z.number().gt(0).default(1),
  weight: z.number().min(0).default(1),
  head: taskHead,
  metrics: z.array(z.enum(regressionMetrics)).min(1).default(['mae', 'rmse', 'r2']),
});

/** A set-valued column: any number of labels per row, one sigmoid output and a binary cross-entropy per label. */
const multilabelTask = z.strictObject({
  type: z.literal('multilabel'),
  /** Column holding each row's labels: in CSV one cell split at `delimiter` (`a|b`), in JSONL also a JSON array. */
  target: nonEmpty,
  /** The labels, in output order; default: the sorted labels found in the training data. */
  labels: z.array(nonEmpty).min(1).optional(),
  /** What separates the labels in a cell. */
  delimiter: nonEmpty.default('|'),
  /** An empty cell: `missing` (the row has no label for this task; masked) or `no_labels` (the empty set). */
  empty_cell: z.enum(['missing', 'no_labels']).default('missing'),
  /** A label is predicted when its probability is at least this (predictions and F1, precision, recall, subset accuracy). */
  threshold: z.number().gt(0).lt(1).default(0.5),
  loss: z.enum(multilabelLosses).default('binary_crossentropy'),
  /** loss: focal: the focusing parameter γ; default 2. */
  focal_gamma: focalGamma,
  /** loss: focal: α for the positive terms, 1 − α for the negative ones; default none (1 for both). */
  focal_alpha: focalAlpha,
  /**
   * Weight of each label's positive term, as PyTorch's BCEWithLogitsLoss pos_weight: one
   * number, `{label: weight}` (unlisted labels 1) or `balanced` (negatives / positives per
   * label over the train split).
   */
  pos_weight: z.union([z.literal('balanced'), z.number().gt(0), z.record(nonEmpty, z.number().gt(0))]).optional(),
  weight: z.number().min(0).default(1),
  head: taskHead,
  metrics: z.array(z.enum(multilabelMetrics)).min(1).default(['micro_f1', 'macro_f1', 'micro_precision', 'micro_recall', 'subset_accuracy', 'roc_auc', 'per_label']),
});

export const taskSchema = z.discriminatedUnion('type', [classificationTask, regressionTask, multilabelTask]);

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

/**
 * A gradient method's config: its options, and `on`: take each task's gradient on the
 * shared parameters (one backward pass per task) or on the shared features the heads
 * see (one backward pass; hard sharing only).
 */
function gradientMethod<N extends GradientMethodName, S extends z.ZodRawShape>(type: N, options: S) {
  return z.strictObject({ type: z.literal(type), on: z.enum(['parameters', 'representation']).default('parameters'), ...options });
}

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
  /** Random loss weighting (Lin et al. 2022): weights drawn as softmax(N(0, 1)) at every step. */
  z.strictObject({ type: z.literal('rlw') }),
  // Gradient methods (src/weighting/gradient/): they combine the task gradients of the shared part.
  /** MGDA-UB (Sener and Koltun 2018): the min-norm point of the task gradients' convex hull. */
  gradientMethod('mgda', { normalization: z.enum(mgdaNormalizations).default(gradientMethodDefaults.mgda.normalization) }),
  /** PCGrad (Yu et al. 2020): each task gradient projected off the ones it conflicts with, in a random order. */
  gradientMethod('pcgrad', {}),
  /** CAGrad (Liu et al. 2021): the best worst-task improvement within radius c·|g0| of the mean gradient. */
  gradientMethod('cagrad', {
    c: z.number().min(0).default(gradientMethodDefaults.cagrad.c),
    /** 0: none, 1: divide by 1 + c², 2: divide by 1 + c. */
    rescale: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(gradientMethodDefaults.cagrad.rescale),
  }),
  /** IMTL-G (Liu et al. 2021): the direction with equal projections on every unit task gradient. */
  gradientMethod('imtl', {}),
  /** Nash-MTL (Navon et al. 2022): the Nash bargaining solution α_t(Gα)_t = 1. */
  gradientMethod('nash_mtl', {
    /** Clip the direction to this norm; 0: no clipping. */
    max_norm: z.number().min(0).default(gradientMethodDefaults.nash_mtl.max_norm),
    /** Solve for α every this many steps and reuse it in between. */
    update_weights_every: positiveInt.default(gradientMethodDefaults.nash_mtl.update_weights_every),
    /** Most solver iterations per solve. */
    optim_niter: positiveInt.default(gradientMethodDefaults.nash_mtl.optim_niter),
  }),
  /** Aligned-MTL (Senushkin et al. 2023): the task gradients' Gram matrix made well-conditioned. */
  gradientMethod('aligned_mtl', {}),
  /** UPGrad (Quinton and Rey, TorchJD): each task gradient projected onto the dual cone of all, averaged. */
  gradientMethod('upgrad', {
    /** Weights of the projected gradients; default: their mean. */
    pref_vector: z.array(z.number().min(0)).min(2).nullable().default(gradientMethodDefaults.upgrad.pref_vector),
    norm_eps: z.number().gt(0).default(gradientMethodDefaults.upgrad.norm_eps),
    reg_eps: z.number().gt(0).default(gradientMethodDefaults.upgrad.reg_eps),
  }),
]);

export type GradientWeightingConfig = Extract<z.infer<typeof weightingSchema>, { on: unknown }>;

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
   * Training threads on the wasm and cpu engines (see `parallelism`); auto: one per core
   * (up to 4) for ResNets and for text read by a cnn or transformer encoder, 1 for MLPs
   * and bag-of-embeddings text.
   */
  threads: z.union([z.literal('auto'), z.int().min(1).max(64)]).default('auto'),
  /**
   * How training uses `threads` on the wasm engine. data: replicas, each with its own copy
   * of the model and a share of every batch; kernels: one model, whose convolutions split
   * every batch over the threads (one copy of the weights and optimizer state; the cpu
   * engine runs one thread; eval and predict score on them too). auto: kernels for the
   * keras-sized presets and text read by a cnn encoder, data otherwise.
   */
  parallelism: z.enum(['auto', 'data', 'kernels']).default('auto'),
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
export type TableDataConfig = Extract<DataConfig, { format: 'csv' | 'jsonl' | 'parquet' }>;
export type ImageFolderDataConfig = Extract<DataConfig, { format: 'image_folder' }>;
export type IdxDataConfig = Extract<DataConfig, { format: 'idx' }>;
export type BackboneConfig = Config['model']['backbone'];
export type MlpBackboneConfig = Extract<BackboneConfig, { type: 'mlp' }>;
export type ResnetBackboneConfig = Extract<BackboneConfig, { type: 'resnet' }>;
export type CnnBackboneConfig = Extract<BackboneConfig, { type: 'cnn' }>;
export type SharingConfig = Config['model']['sharing'];
export type HeadConfig = Config['model']['head'];
export type TaskConfig = Config['tasks'][string];
export type ClassificationTaskConfig = Extract<TaskConfig, { type: 'classification' }>;
export type RegressionTaskConfig = Extract<TaskConfig, { type: 'regression' }>;
export type MultilabelTaskConfig = Extract<TaskConfig, { type: 'multilabel' }>;
export type TrainingConfig = Config['training'];
export type OptimizerConfig = TrainingConfig['optimizer'];
export type LrScheduleConfig = TrainingConfig['lr_schedule'];
export type WeightingConfig = TrainingConfig['weighting'];
export type MonitorMode = z.output<typeof monitorMode>;

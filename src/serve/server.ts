/**
 * `mtl serve`: TensorFlow Serving's REST shape over a trained run, on fastify.
 *
 *     POST /v1/models/NAME:predict   {"instances": [{column: value, ...}, ...]} -> {"predictions": [...]}
 *     GET  /v1/models/NAME           inputs, tasks, classes, backend
 *     GET  /healthz
 *
 * Instances of concurrent requests are scored together (up to maxBatch rows, waiting at
 * most maxWaitMs for more). A bad instance is a 400 naming it with predict's reason,
 * malformed JSON a 400, a body over the limit a 413; errors are answered, never thrown
 * out of the server. close() stops accepting and waits for the requests in flight.
 *
 * fastify rather than node:http: body limits (413), JSON parsing errors (400), routing
 * with a `:` inside the path segment, and a close that drains in-flight requests are
 * all built in and well tested there; it is the most used Node framework after express
 * and is maintained by the Node.js core team's members.
 */
import * as tf from '@tensorflow/tfjs-core';
import Fastify, { type FastifyInstance } from 'fastify';
import type { PredictionRow } from '../api/predict';
import type { Predictor } from './predictor';

export interface ServeOptions {
  port?: number;
  host?: string;
  /** Largest number of rows scored in one batch. */
  maxBatch?: number;
  /** How long the first request of a batch waits for others to join it. */
  maxWaitMs?: number;
  /** Largest request body in bytes (413 above). */
  bodyLimit?: number;
  /** Most instances in one request. */
  maxInstances?: number;
}

interface Pending {
  instances: Record<string, unknown>[];
  resolve: (r: { predictions: (PredictionRow | null)[]; errors: Map<number, string> }) => void;
  reject: (e: unknown) => void;
}

/** Collects the instances of concurrent requests into batches. */
export class Batcher {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  /** Batches and rows scored, for GET /v1/models/NAME and tests. */
  readonly stats = { batches: 0, rows: 0, requests: 0, largestBatch: 0 };

  constructor(
    private readonly predictor: Pick<Predictor, 'predict'>,
    private readonly maxBatch: number,
    private readonly maxWaitMs: number,
  ) {}

  submit(instances: Record<string, unknown>[]): Promise<{ predictions: (PredictionRow | null)[]; errors: Map<number, string> }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ instances, resolve, reject });
      const rows = this.queue.reduce((n, p) => n + p.instances.length, 0);
      if (rows >= this.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.maxWaitMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch: Pending[] = [];
    let rows = 0;
    while (this.queue.length > 0 && (batch.length === 0 || rows + this.queue[0].instances.length <= this.maxBatch)) {
      const p = this.queue.shift()!;
      batch.push(p);
      rows += p.instances.length;
    }
    if (this.queue.length > 0) this.timer = setTimeout(() => this.flush(), 0);
    // One batch at a time: the engine runs one graph at once anyway.
    this.running = this.running.then(() => this.score(batch, rows));
  }

  private async score(batch: Pending[], rows: number): Promise<void> {
    this.stats.batches++;
    this.stats.rows += rows;
    this.stats.requests += batch.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, rows);
    try {
      const all = batch.flatMap((p) => p.instances);
      const outcome = await this.predictor.predict(all);
      let offset = 0;
      for (const p of batch) {
        const n = p.instances.length;
        const errors = new Map<number, string>();
        for (let i = 0; i < n; i++) if (outcome.errors.has(offset + i)) errors.set(i, outcome.errors.get(offset + i)!);
        p.resolve({ predictions: outcome.predictions.slice(offset, offset + n), errors });
        offset += n;
      }
    } catch (e) {
      for (const p of batch) p.reject(e);
    }
  }
}

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** A JSON value a table cell can hold: a number, string, boolean, null, or a flat list (multilabel sets). */
function checkInstances(body: unknown, maxInstances: number, imageColumns: Set<string>): Record<string, unknown>[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'expected a JSON object {"instances": [{column: value, ...}, ...]}');
  const instances = (body as { instances?: unknown }).instances;
  if (instances === undefined) {
    const hint = 'inputs' in (body as object) ? ' (the columnar "inputs" form is not supported; send rows as "instances")' : '';
    throw new HttpError(400, `missing "instances": expected {"instances": [{column: value, ...}, ...]}${hint}`);
  }
  if (!Array.isArray(instances) || instances.length === 0) throw new HttpError(400, '"instances" must be a non-empty list of objects, one per row');
  if (instances.length > maxInstances) throw new HttpError(413, `${instances.length} instances in one request; at most ${maxInstances}`);
  instances.forEach((row, i) => {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new HttpError(400, `instance ${i}: expected an object {column: value, ...}, got ${Array.isArray(row) ? 'a list' : JSON.stringify(row)}`);
    for (const [key, value] of Object.entries(row)) {
      const b64 = imageColumns.has(key) && value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 1 && typeof (value as { b64?: unknown }).b64 === 'string';
      const ok = b64 || value === null || ['string', 'number', 'boolean'].includes(typeof value) || (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number'));
      if (!ok) throw new HttpError(400, `instance ${i}: "${key}" holds ${Array.isArray(value) ? 'a nested list' : 'an object'}; a column holds one number or string`);
    }
  });
  return instances as Record<string, unknown>[];
}

export async function createServer(predictor: Predictor, options: ServeOptions = {}): Promise<{ app: FastifyInstance; batcher: Batcher; url: string }> {
  const name = predictor.info.name;
  const maxInstances = options.maxInstances ?? 10000;
  const imageColumns = new Set(predictor.info.inputs.filter((i) => i.type === 'image').map((i) => i.name));
  const batcher = new Batcher(predictor, options.maxBatch ?? 256, options.maxWaitMs ?? 2);
  const app = Fastify({ bodyLimit: options.bodyLimit ?? 1024 * 1024, logger: false, forceCloseConnections: 'idle' });

  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    const status = error instanceof HttpError ? error.statusCode : error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    const message = status === 413 && !(error instanceof HttpError) ? `request body over the limit of ${options.bodyLimit ?? 1024 * 1024} bytes` : status === 500 ? `internal error: ${error.message}` : error.message;
    void reply.status(status).send({ error: message });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: `no route ${request.method} ${request.url}; this server answers POST /v1/models/${name}:predict, GET /v1/models/${name}, GET /healthz` });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  const modelRoute = (model: string) => {
    if (model !== name) throw new HttpError(404, `model "${model}" not found; this server serves "${name}"`);
  };
  app.get<{ Params: { model: string } }>('/v1/models/:model', async (request) => {
    modelRoute(request.params.model);
    return {
      model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }],
      ...predictor.info,
      batching: { max_batch_size: options.maxBatch ?? 256, max_wait_ms: options.maxWaitMs ?? 2, ...batcher.stats },
      // Flat across requests, or something leaks (the load test watches it).
      memory: { tensors: tf.memory().numTensors, rss_mb: Math.round(process.memoryUsage().rss / 2 ** 20) },
    };
  });

  // `NAME:predict` is one path segment (find-my-way does not split a parameter at a colon).
  app.post<{ Params: { spec: string } }>('/v1/models/:spec', async (request) => {
    const colon = request.params.spec.lastIndexOf(':');
    const [model, verb] = colon < 0 ? [request.params.spec, ''] : [request.params.spec.slice(0, colon), request.params.spec.slice(colon + 1)];
    modelRoute(model);
    if (verb !== 'predict') throw new HttpError(404, `no method "${verb || '(none)'}": POST /v1/models/${name}:predict`);
    const instances = checkInstances(request.body, maxInstances, imageColumns);
    const { predictions, errors } = await batcher.submit(instances);
    if (errors.size > 0) {
      const [index, reason] = [...errors.entries()][0];
      const more = errors.size > 1 ? ` (and ${errors.size - 1} more: ${[...errors.keys()].slice(1, 6).join(', ')}${errors.size > 6 ? ', ...' : ''})` : '';
      throw new HttpError(400, `instance ${index}: ${reason}${more}`);
    }
    return { predictions };
  });

  const address = await app.listen({ port: options.port ?? 8080, host: options.host ?? '127.0.0.1' });
  return { app, batcher, url: address };
}

/** `mtl serve RUN [--port 8080] [--host 127.0.0.1] [--name NAME]`: predictions over HTTP (src/serve/). */
import type { Command } from 'commander';
import { describeBackend, activeBackend, type BackendName, type Device } from '../backends';
import { ConfigError } from '../errors';
import { Predictor } from '../serve/predictor';
import { createServer } from '../serve/server';
import { commonOptions, parseIntOption, type Output } from './options';

export interface ServeArgs {
  location: string;
  port?: number;
  host?: string;
  name?: string;
  maxBatch?: number;
  maxWaitMs?: number;
  bodyLimit?: number;
  device?: Device;
  backend?: BackendName;
}

/** Starts the server; resolves with a close() that drains in-flight requests. */
export async function serveCommand(args: ServeArgs, out: Output): Promise<{ url: string; close: () => Promise<void> }> {
  if (args.port !== undefined && (args.port < 0 || args.port > 65535)) throw new ConfigError(`--port ${args.port}: expected 0..65535 (0 picks a free port)`);
  if (args.maxBatch !== undefined && args.maxBatch < 1) throw new ConfigError(`--max-batch ${args.maxBatch}: expected a whole number >= 1`);
  const predictor = await Predictor.load(args.location, { device: args.device, backend: args.backend, name: args.name });
  const backend = activeBackend();
  if (backend) out.log(describeBackend(backend));
  const { app, url } = await createServer(predictor, { port: args.port, host: args.host, maxBatch: args.maxBatch, maxWaitMs: args.maxWaitMs, bodyLimit: args.bodyLimit });
  const name = predictor.info.name;
  out.log(`serving ${name} (${predictor.info.checkpoint}) at ${url}: POST ${url}/v1/models/${name}:predict {"instances": [...]}, GET ${url}/v1/models/${name}, GET ${url}/healthz`);
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await app.close();
      predictor.dispose();
    })());
  return { url, close };
}

export function registerServe(program: Command, out: Output): void {
  commonOptions(
    program
      .command('serve')
      .description('serve a trained run\'s predictions over HTTP (TensorFlow Serving\'s REST shape: POST /v1/models/NAME:predict)')
      .argument('<run>', 'run folder, or a checkpoints/best|last folder')
      .option('--port <n>', 'TCP port (0 picks a free one)', parseIntOption, 8080)
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option('--name <name>', 'model name in the URL (default: the run\'s config name)')
      .option('--max-batch <n>', 'most rows scored in one batch (concurrent requests are batched together)', parseIntOption, 256)
      .option('--max-wait-ms <n>', 'how long a request waits for others to join its batch', parseIntOption, 2)
      .option('--body-limit <bytes>', 'largest request body (413 above)', parseIntOption, 1024 * 1024),
  ).action(async (location: string, opts: Omit<ServeArgs, 'location'>) => {
    const server = await serveCommand({ location, ...opts }, out);
    await new Promise<void>((resolve) => {
      const stop = (signal: NodeJS.Signals) => {
        out.log(`${signal}: finishing the requests in flight, then exiting`);
        void server.close().then(resolve);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  });
}

/**
 * A real redis-server for the queue tests, started on a free localhost port in a
 * temporary folder (append-only file on, so a restart keeps the queue). Debian's
 * redis-server; where it is missing the tests that need it are skipped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { tempDir } from './tmp';

export const redisServer: string | undefined = (() => {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  return found || undefined;
})();

export const skipWithoutRedis = redisServer ? false : 'redis-server not found: apt-get install -y redis-server (as .ci/run does) to run the queue tests';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.once('error', () => resolve(false));
    socket.on('data', (d) => {
      reply += d;
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.startsWith('+PONG'));
      }
    });
    socket.once('connect', () => socket.write('PING\r\n'));
  });
}

export interface Redis {
  port: number;
  url: string;
  /** Stops it (SIGTERM: the append-only file is written). */
  stop(): Promise<void>;
  /** Starts it again on the same port and folder. */
  start(): Promise<void>;
}

export async function startRedis(): Promise<Redis> {
  const port = await freePort();
  const dir = tempDir('mtl-redis-');
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(redisServer!, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--protected-mode', 'no'], { stdio: 'ignore' });
    const until = Date.now() + 10000;
    while (!(await answers(port))) {
      if (Date.now() > until) throw new Error(`redis-server did not answer on port ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  };
  process.on('exit', () => child?.kill('SIGKILL'));
  await start();
  return { port, url: `redis://127.0.0.1:${port}/0`, stop, start };
}

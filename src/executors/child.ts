/**
 * A local worker process (forked by LocalPool): takes jobs over IPC, one at a time, and
 * trains each in this process. SIGINT/SIGTERM (Ctrl-C reaches the whole process group)
 * stop the running job at the end of its step with checkpoints/last written; when the
 * parent dies the IPC channel closes and the process ends at once, so no orphan keeps
 * writing a run folder that another worker may take over.
 */
import { runJob } from './run-job';
import { decodeResult, encodeResult, type TrainJob } from './types';

type Message = { type: 'job'; job: string } | { type: 'interrupt' };

const stop = { requested: false };
let busy = false;

function send(message: object): void {
  if (process.connected) process.send!(message);
}

process.on('disconnect', () => process.exit(0));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stop.requested = true;
    if (!busy) process.exit(130);
  });
}

process.on('message', (message: Message) => {
  if (message.type === 'interrupt') {
    stop.requested = true;
    return;
  }
  if (message.type !== 'job') return;
  busy = true;
  const job = decodeResult<TrainJob>(message.job);
  void runJob(job, stop, { epoch: (id, epoch) => send({ type: 'epoch', id, epoch }) }).then((result) => {
    busy = false;
    send({ type: 'result', result: encodeResult(result) });
  });
});

send({ type: 'ready' });

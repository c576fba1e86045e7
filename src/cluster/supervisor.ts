import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../logging/logger.js';
import { SessionDirectory } from './directory.js';
import { isAdminWorkerMessage, isWorkerMessage, type AdminWorkerMessage, type PrimaryToWorker } from './messages.js';

/** A crashed worker is replaced after this pause (not at once: a crash loop must not spin). */
const RESPAWN_DELAY_MS = 1_000;
/** A worker that could not start for a reason the operator must fix (port, data directory): the cluster exits with it too. */
const EXIT_CONFIG = 78;
const EXIT_FAILURE = 1;

/** A worker as the primary's other parts see it. */
export interface WorkerPort {
  readonly id: number;
  /** False when the message could not be sent: the worker is gone or going. */
  send(message: PrimaryToWorker): boolean;
}

/** Who handles the workers' admin messages: the cluster primary's admin backend (admin/cluster-backend.ts). */
export interface WorkerAdminHandler {
  received(worker: WorkerPort, message: AdminWorkerMessage): void;
  /** The worker exited: it answers nothing more. */
  workerGone(workerId: number): void;
}

export interface SupervisorOptions {
  /** Receives the workers' admin messages; without it they are ignored (no admin listener). */
  readonly admin?: WorkerAdminHandler;
}

export interface Supervisor {
  /** Settles with the exit code the primary should use: 1 when workers could not start, 78 when one exited with 78. */
  readonly done: Promise<number>;
  /** Asks every worker to stop gracefully; `done` settles when all have exited. */
  stop(): void;
}

/**
 * The node:cluster primary: forks `count` workers running the same command
 * line, keeps the directory of which worker serves which charger, replaces
 * crashed workers, and stops them all on request. It serves no charger itself.
 */
export function superviseWorkers(count: number, log: Logger, options: SupervisorOptions = {}): Supervisor {
  let stopping = false;
  /** Set when a worker could not start: the whole cluster then exits with this. */
  let failedWith: number | undefined;
  let listening = 0;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  const send = (workerId: number, message: PrimaryToWorker): void => {
    const worker = cluster.workers?.[workerId];
    if (worker?.isConnected() === true) worker.send(message);
  };
  const portOf = (worker: Worker): WorkerPort => ({
    id: worker.id,
    send(message) {
      if (!worker.isConnected()) return false;
      // With a callback, a channel that closes meanwhile reports here instead of as an unhandled 'error' event.
      worker.send(message, (error: Error | null) => {
        if (error !== null) log.debug({ worker: worker.id, err: error }, 'could not send to a worker');
      });
      return true;
    },
  });
  const directory = new SessionDirectory(send, (identity, workerId) =>
    log.warn({ charge_point: identity, worker: workerId }, 'a worker did not release a charger in time; the new connection goes ahead'),
  );
  const started = new Set<number>();

  cluster.on('listening', (worker) => {
    if (started.has(worker.id)) return;
    started.add(worker.id);
    listening += 1;
    if (listening === count) log.info({ workers: count }, 'all workers listening');
  });
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isWorkerMessage(message)) return;
    if (isAdminWorkerMessage(message)) {
      options.admin?.received(portOf(worker), message);
    } else if (message.ocppSplitter === 'claim') {
      const { requestId, identity } = message;
      void directory.claim(identity, worker.id).then(() => send(worker.id, { ocppSplitter: 'granted', requestId }));
    } else if (message.ocppSplitter === 'ended') {
      directory.ended(message.identity, worker.id);
    } else {
      directory.released(message.requestId);
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    directory.workerGone(worker.id);
    options.admin?.workerGone(worker.id);
    const remaining = Object.keys(cluster.workers ?? {}).length;
    if (stopping) {
      if (remaining === 0) resolveDone(failedWith ?? 0);
      return;
    }
    if (!started.has(worker.id)) {
      // It never listened (a port in use, say): every sibling would fail the same way.
      log.error({ worker: worker.id, code, signal }, 'a worker failed to start; stopping');
      stopping = true;
      failedWith = code === EXIT_CONFIG ? EXIT_CONFIG : EXIT_FAILURE;
      for (const other of Object.values(cluster.workers ?? {})) other?.kill('SIGTERM');
      if (remaining === 0) resolveDone(failedWith);
      return;
    }
    log.error({ worker: worker.id, code, signal }, 'worker exited unexpectedly; starting a new one');
    setTimeout(() => {
      if (!stopping) cluster.fork();
    }, RESPAWN_DELAY_MS).unref();
  });

  for (let i = 0; i < count; i += 1) cluster.fork();

  return {
    done,
    stop() {
      if (stopping) return;
      stopping = true;
      const workers = Object.values(cluster.workers ?? {});
      if (workers.length === 0) resolveDone(0);
      for (const worker of workers) if (worker?.isConnected() === true) worker.send({ ocppSplitter: 'shutdown' } satisfies PrimaryToWorker);
    },
  };
}

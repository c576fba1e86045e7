import { isPrimaryMessage, type PrimaryToWorker, type WorkerToPrimary } from './messages.js';

/**
 * How a proxy learns about sessions in sibling processes. With one process
 * there is none; with node:cluster workers the primary keeps the directory of
 * which worker serves which charge point, so that a charger reconnecting on
 * another worker replaces its old session there exactly as it would locally.
 */
export interface SessionCoordinator {
  /**
   * Resolves when this process may serve `identity`: a session for it in any
   * other process has been closed and its durable state written.
   */
  claim(identity: string): Promise<void>;
  /** This process no longer serves `identity`. */
  ended(identity: string): void;
  /** What to do when another process claims an identity served here; settles once released. */
  onRelease(handler: (identity: string) => Promise<void>): void;
  close(): void;
}

/** Longer than the primary's own release timeout, so a lost answer cannot stall an upgrade for ever. */
export const CLAIM_TIMEOUT_MS = 10_000;

/** The worker's side: talks to the cluster primary over the IPC channel. */
export class IpcCoordinator implements SessionCoordinator {
  readonly #send: (message: WorkerToPrimary) => void;
  readonly #grants = new Map<number, () => void>();
  #nextRequestId = 1;
  #releaseHandler: ((identity: string) => Promise<void>) | undefined;
  #closed = false;

  constructor(send: (message: WorkerToPrimary) => void = (message) => process.send?.(message)) {
    this.#send = send;
    process.on('message', this.#onMessage);
  }

  claim(identity: string): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const requestId = this.#nextRequestId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(), CLAIM_TIMEOUT_MS).unref();
      const finish = (): void => {
        clearTimeout(timer);
        this.#grants.delete(requestId);
        resolve();
      };
      this.#grants.set(requestId, finish);
      this.#send({ ocppSplitter: 'claim', requestId, identity });
    });
  }

  ended(identity: string): void {
    if (!this.#closed) this.#send({ ocppSplitter: 'ended', identity });
  }

  onRelease(handler: (identity: string) => Promise<void>): void {
    this.#releaseHandler = handler;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    process.off('message', this.#onMessage);
    for (const grant of [...this.#grants.values()]) grant();
  }

  /** Handles one message from the primary; exposed for tests without a cluster. */
  handle(message: PrimaryToWorker): void {
    if (message.ocppSplitter === 'granted') {
      this.#grants.get(message.requestId)?.();
    } else if (message.ocppSplitter === 'release') {
      const { requestId, identity } = message;
      const release = this.#releaseHandler?.(identity) ?? Promise.resolve();
      // Answer even if releasing failed: the claimer must not wait for ever.
      void release.finally(() => {
        if (!this.#closed) this.#send({ ocppSplitter: 'released', requestId });
      });
    }
  }

  readonly #onMessage = (message: unknown): void => {
    if (isPrimaryMessage(message)) this.handle(message);
  };
}

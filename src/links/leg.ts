import type WebSocket from 'ws';
import { channels, type FrameTap } from '../diagnostics/channels.js';
import { fitCloseReason } from './close-codes.js';
import type { Keepalive } from './keepalive.js';

/**
 * Bytes buffered toward a peer above which the leg feeding it is paused
 * (backpressure): a slow charger or CSMS must not make the proxy hold an
 * unbounded amount of its partner's traffic in memory.
 */
export const HIGH_WATER_MARK_BYTES = 1024 * 1024;

export interface LegHandlers {
  /** A complete frame arrived; `data` is the received bytes, to be forwarded as is. */
  onFrame(leg: Leg, data: Buffer, isBinary: boolean): void;
  /** The socket closed; `code` is 1006 when the peer vanished without a close frame. */
  onClose(leg: Leg, code: number, reason: string): void;
  /** A protocol-level error (oversized frame, invalid UTF-8, bad framing); 'close' follows. */
  onError(leg: Leg, error: Error & { code?: string }): void;
}

/**
 * One WebSocket of a session — the charger's, or an upstream CSMS's — with the
 * listeners, keepalive registration and backpressure that go with it. Created
 * once per socket; frames go through bound methods, never per-frame closures.
 */
export class Leg {
  readonly name: string;
  readonly socket: WebSocket;
  readonly #handlers: LegHandlers;
  readonly #stopKeepalive: () => void;
  /** What `frameData` says this socket is; frames are published only while someone subscribes. */
  readonly #tap: FrameTap | undefined;
  #closed = false;

  constructor(name: string, socket: WebSocket, handlers: LegHandlers, keepalive: Keepalive, tap?: FrameTap) {
    this.name = name;
    this.socket = socket;
    this.#handlers = handlers;
    this.#tap = tap;
    socket.on('message', this.#onMessage);
    socket.on('close', this.#onClose);
    socket.on('error', this.#onError);
    this.#stopKeepalive = keepalive.track(socket);
  }

  get isOpen(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  /** Starts (or restarts) emitting frames; legs from `dial()` start paused. */
  resume(): void {
    this.socket.resume();
  }

  /**
   * Sends a frame exactly as given. When this leg's outgoing buffer is over the
   * high-water mark, `source` (the leg the frame came from) stops reading until
   * this frame has been handed to the kernel.
   * Returns false when the socket is no longer open and the frame was not sent.
   */
  send(data: Buffer | string, isBinary: boolean, source?: Leg): boolean {
    if (!this.isOpen) return false;
    if (this.#tap !== undefined && channels.frameData.hasSubscribers) this.#publish('out', data, isBinary, source !== undefined);
    if (source !== undefined && this.socket.bufferedAmount >= HIGH_WATER_MARK_BYTES) {
      source.socket.pause();
      this.socket.send(data, { binary: isBinary }, () => source.socket.resume());
    } else {
      this.socket.send(data, { binary: isBinary });
    }
    return true;
  }

  /** Sends `text`; resolves once the socket has handed it to the kernel (false when the socket is gone). */
  sendAndDrain(text: string): Promise<boolean> {
    if (!this.isOpen) return Promise.resolve(false);
    if (this.#tap !== undefined && channels.frameData.hasSubscribers) this.#publish('out', text, false, false);
    return new Promise((resolve) => this.socket.send(text, (error) => resolve(error === undefined || error === null)));
  }

  #publish(direction: 'in' | 'out', data: Buffer | string, isBinary: boolean, forwarded: boolean): void {
    const tap = this.#tap;
    if (tap === undefined) return;
    channels.frameData.publish({ chargerId: tap.chargerId, leg: tap.leg, secondary: tap.secondary, direction, forwarded, data, isBinary, at: Date.now() });
  }

  /** Starts the closing handshake; idempotent. */
  close(code: number, reason: string): void {
    const state = this.socket.readyState;
    if (state === this.socket.CLOSING || state === this.socket.CLOSED) return;
    this.socket.close(code, fitCloseReason(reason));
  }

  /** Drops the connection at once, without a closing handshake; idempotent. */
  terminate(): void {
    this.socket.terminate();
  }

  get closed(): boolean {
    return this.#closed;
  }

  readonly #onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
    // With the default binaryType ('nodebuffer') `ws` hands over one Buffer; the
    // other shapes exist only for other binaryTypes and are normalised, not dropped.
    const frame = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (this.#tap !== undefined && channels.frameData.hasSubscribers) this.#publish('in', frame, isBinary, false);
    this.#handlers.onFrame(this, frame, isBinary);
  };

  readonly #onClose = (code: number, reason: Buffer): void => {
    this.#closed = true;
    this.#stopKeepalive();
    this.socket.off('message', this.#onMessage);
    this.#handlers.onClose(this, code, reason.toString());
  };

  readonly #onError = (error: Error): void => {
    this.#handlers.onError(this, error);
  };
}

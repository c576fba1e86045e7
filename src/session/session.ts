import type { Logger } from '../logging/logger.js';
import { describeFrame } from '../logging/describe-frame.js';
import { CloseCode, isRelayableCloseCode } from '../links/close-codes.js';
import type { Keepalive } from '../links/keepalive.js';
import { Leg, type LegHandlers } from '../links/leg.js';
import type WebSocket from 'ws';
import type { SessionMirror } from '../mirror/session-mirror.js';
import { channels } from '../diagnostics/channels.js';
import { coarseClock, kindIndexOf, LAST_FRAME_AT, newFrameCounts, SOURCE_BASE, type FrameCounts } from '../diagnostics/frame-counts.js';
import { actionKinds, classifyFrame, NO_FACTS, routeFrame, type FrameKind, type RouteFacts } from '../routing/route-frame.js';
import type { FrameHead } from '../ocpp/scan.js';

let nextSessionId = 1;

/** Facts for the primary's frames when mirroring: the table needs nothing else to route them. */
const MIRRORING: RouteFacts = { ...NO_FACTS, mirroring: true };

export const SessionState = {
  Open: 'open',
  Closing: 'closing',
  Closed: 'closed',
} as const;
export type SessionState = (typeof SessionState)[keyof typeof SessionState];

export interface SessionOptions {
  readonly identity: string;
  /** The negotiated OCPP sub-protocol ('' when none). */
  readonly subprotocol: string;
  /** Just upgraded; its socket is paused until the session has wired it. */
  readonly charger: WebSocket;
  /** Opened by `dial()`, still paused. */
  readonly primary: WebSocket;
  readonly log: Logger;
  readonly keepalive: Keepalive;
  /** Debug log bodies are cut at this many characters (0 = never). */
  readonly logMaxMessageLength: number;
  /** Builds the session's mirror to the secondaries, given a way to reach the charger; none without secondaries. */
  readonly createMirror?: (sendToCharger: (text: string) => boolean, frameCounts: FrameCounts) => SessionMirror;
  /** Where the charger connected from, as logged. */
  readonly remoteAddress?: string;
}

/**
 * One charger's connection through the proxy: the charger leg and the primary
 * leg, wired so every frame reaches the other side exactly as received, and so
 * either side closing closes the other. Knows nothing of OCPP actions.
 */
export class ChargerSession {
  readonly identity: string;
  readonly subprotocol: string;
  readonly remoteAddress: string | undefined;
  readonly sessionId = nextSessionId++;
  /** Frames seen, by source and kind, and when the last one passed (see diagnostics/frame-counts.ts). */
  readonly frameCounts: FrameCounts = newFrameCounts();
  /** Epoch ms. */
  readonly connectedAt = Date.now();
  readonly #log: Logger;
  readonly #logFrames: boolean;
  readonly #logMaxMessageLength: number;
  readonly #charger: Leg;
  readonly #primary: Leg;
  readonly #mirror: SessionMirror | undefined;
  /** Legs whose socket failed at the protocol level; their close code is not relayed. */
  readonly #failedLegs = new Set<Leg>();
  #state: SessionState = SessionState.Open;
  /**
   * The charger's CALL being timed for the call-duration histogram. One slot: OCPP-J lets a charger have one
   * CALL outstanding (a second one replaces the first, whose answer is then not timed).
   */
  #timedCallId: string | undefined;
  #timedCallAction = '';
  #timedCallAt = 0;
  readonly #ended: Promise<void>;
  #resolveEnded!: () => void;

  constructor(options: SessionOptions) {
    this.identity = options.identity;
    this.subprotocol = options.subprotocol;
    this.#log = options.log;
    this.#logFrames = options.log.isLevelEnabled('debug');
    this.#logMaxMessageLength = options.logMaxMessageLength;
    this.#ended = new Promise((resolve) => {
      this.#resolveEnded = resolve;
    });
    this.#charger = new Leg('charger', options.charger, this.#handlers, options.keepalive, { chargerId: this.identity, leg: 'charger' });
    this.#primary = new Leg('primary', options.primary, this.#handlers, options.keepalive, { chargerId: this.identity, leg: 'primary' });
    this.#mirror = options.createMirror?.((text) => this.#charger.send(text, false), this.frameCounts);
    this.remoteAddress = options.remoteAddress;
    channels.sessionStarted.publish({ chargerId: this.identity, sessionId: this.sessionId, protocol: this.subprotocol, remoteAddress: this.remoteAddress, frames: this.frameCounts });
  }

  get state(): SessionState {
    return this.#state;
  }

  /** The secondaries this session mirrors to (empty without secondaries). */
  get mirror(): SessionMirror | undefined {
    return this.#mirror;
  }

  /**
   * Starts the traffic. Separate from the constructor so that a session this one
   * replaces (`previous`) is closed first and has let go of its mirror's durable
   * state before this one loads it.
   */
  start(previous?: ChargerSession): void {
    this.#mirror?.start(previous?.mirror);
    // Both sockets were paused until now, so no frame could arrive unheard.
    this.#charger.resume();
    this.#primary.resume();
  }

  /** Settles once both sockets are closed and every listener is gone. */
  get ended(): Promise<void> {
    return this.#ended;
  }

  /** Closes both legs with the same code and reason (shutdown, replacement); idempotent. */
  close(code: number, reason: string): void {
    if (this.#state !== SessionState.Open) return;
    this.#state = SessionState.Closing;
    this.#mirror?.close();
    this.#charger.close(code, reason);
    this.#primary.close(code, reason);
  }

  /** Drops both sockets at once, without closing handshakes; idempotent. */
  terminate(): void {
    if (this.#state === SessionState.Closed) return;
    this.#state = SessionState.Closing;
    this.#mirror?.terminate();
    this.#charger.terminate();
    this.#primary.terminate();
  }

  /**
   * For the primary's call-duration histogram (only while someone listens): a charger CALL's id
   * and when it passed, until the primary's answer to it goes back.
   */
  #timeCall(fromCharger: boolean, kind: FrameKind, head: FrameHead): void {
    if (fromCharger && kind === 'call' && head.action !== undefined) {
      this.#timedCallId = head.id;
      this.#timedCallAction = head.action;
      this.#timedCallAt = performance.now();
      return;
    }
    if (fromCharger || (kind !== 'callresult' && kind !== 'callerror') || head.id !== this.#timedCallId) return;
    this.#timedCallId = undefined;
    channels.chargerCallAnswered.publish({ chargerId: this.identity, action: this.#timedCallAction, durationMs: performance.now() - this.#timedCallAt });
  }

  /** Bumps the frame counters observers read (frame-counts.ts): a few nanoseconds, so always. */
  #count(fromCharger: boolean, data: Buffer, isBinary: boolean): void {
    const counts = this.frameCounts;
    const index = (fromCharger ? SOURCE_BASE.charger : SOURCE_BASE.primary) + kindIndexOf(data, isBinary);
    counts[index] = (counts[index] ?? 0) + 1;
    counts[LAST_FRAME_AT] = coarseClock();
  }

  /** Call timing without routing: reads a head only where it may start or end a timed call. */
  #timeUnrouted(fromCharger: boolean, data: Buffer, isBinary: boolean): void {
    if (isBinary || (!fromCharger && this.#timedCallId === undefined)) return;
    const { kind, head } = classifyFrame(data, isBinary);
    if (head !== undefined) this.#timeCall(fromCharger, kind, head);
  }

  /** To the other side of the charger ↔ primary pair, exactly as received. */
  #forward(from: Leg, data: Buffer, isBinary: boolean): void {
    const target = from === this.#charger ? this.#primary : this.#charger;
    if (!target.send(data, isBinary, from)) {
      // The other side is already closing: its close event ends this session;
      // a direct connection would have lost this frame the same way.
      this.#log.warn({ from: from.name, bytes: data.length }, 'frame dropped: the other side is closing');
    }
  }

  readonly #handlers: LegHandlers = {
    onFrame: (leg, data, isBinary) => {
      const fromCharger = leg === this.#charger;
      if (this.#logFrames) {
        this.#log.debug(
          { message: describeFrame(data, isBinary, this.#logMaxMessageLength) },
          fromCharger ? 'charger → proxy' : 'primary → proxy',
        );
      }
      const mirror = this.#mirror;
      if (mirror === undefined && !channels.frameRouted.hasSubscribers) {
        // Nothing to decide: without secondaries every frame goes straight across.
        this.#forward(leg, data, isBinary);
        this.#count(fromCharger, data, isBinary);
        // Timing needs the message ids of a charger CALL and of the primary's answers only.
        if (channels.chargerCallAnswered.hasSubscribers) this.#timeUnrouted(fromCharger, data, isBinary);
        return;
      }
      this.#count(fromCharger, data, isBinary);
      // Routing reads the frame's head only; the payload is never parsed on this path.
      const { kind, head } = classifyFrame(data, isBinary);
      const source = fromCharger ? 'charger' : 'primary';
      const charger = mirror !== undefined && fromCharger ? mirror.chargerFacts(kind, head, data) : undefined;
      const facts = charger?.facts ?? (mirror === undefined ? NO_FACTS : MIRRORING);
      const actions = routeFrame(source, kind, facts);
      // The table puts 'forward' first: the other side has the frame before any mirror work starts.
      for (const action of actions) {
        if (action.kind === 'forward') this.#forward(leg, data, isBinary);
        else mirror?.carryOut(action, head, data, charger?.id ?? head?.id);
      }
      if (channels.chargerCallAnswered.hasSubscribers && head !== undefined) this.#timeCall(fromCharger, kind, head);
      if (channels.frameRouted.hasSubscribers) {
        channels.frameRouted.publish({
          chargerId: this.identity,
          source,
          type: kind,
          action: head?.action,
          bytes: data.length,
          actions: actionKinds(actions),
        });
      }
    },

    onClose: (leg, code, reason) => {
      const fromCharger = leg === this.#charger;
      this.#log.info({ code, reason }, fromCharger ? 'charger disconnected' : 'primary disconnected');
      const other = fromCharger ? this.#primary : this.#charger;
      if (this.#state === SessionState.Open) {
        this.#state = SessionState.Closing;
        this.#mirror?.close();
        if (!this.#failedLegs.has(leg) && isRelayableCloseCode(code)) {
          other.close(code, reason);
        } else if (fromCharger) {
          other.close(CloseCode.GoingAway, 'charger connection lost');
        } else {
          other.close(CloseCode.InternalError, 'primary CSMS connection lost');
        }
      }
      if (this.#charger.closed && this.#primary.closed) {
        // The mirror's sockets, not its store writes: a store that is locked or failing must not keep a
        // session (and a proxy's shutdown) waiting; the writes settle, or fail, on their own.
        const mirrorClosed = this.#mirror?.socketsClosed ?? Promise.resolve();
        void mirrorClosed.then(() => {
          this.#state = SessionState.Closed;
          channels.sessionEnded.publish({ chargerId: this.identity, sessionId: this.sessionId, protocol: this.subprotocol, remoteAddress: this.remoteAddress, frames: this.frameCounts });
          this.#resolveEnded();
        });
      }
    },

    onError: (leg, error) => {
      this.#failedLegs.add(leg);
      this.#log.warn({ leg: leg.name, code: error.code, error: error.message }, 'websocket error, closing that leg');
    },
  };
}

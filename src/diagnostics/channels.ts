/**
 * Every internal event the proxy publishes, on `node:diagnostics_channel`: the core only
 * publishes, and logging, metrics and the dashboard subscribe (the model is undici's
 * lib/core/diagnostics.js). Publishing costs one `hasSubscribers` check when nobody listens,
 * so the frame path may publish freely.
 *
 * Messages carry identifiers and numbers, never credentials. Only `frameData` carries frame bodies
 * (for the dashboard's frame inspector): its subscribers must redact them as the logs do
 * (logging/describe-frame.ts) before showing them anywhere.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { RouteSource } from '../routing/route-frame.js';
import type { FrameCounts } from './frame-counts.js';

/** One frame from one source, and what the routing table decided for it. */
export interface FrameRoutedMessage {
  readonly chargerId: string;
  readonly source: RouteSource;
  /** The secondary's label when `source` is 'secondary'. */
  readonly secondary?: string;
  /** 'call', 'callresult', 'callerror', 'callresulterror', 'send', 'invalid'. */
  readonly type: string;
  readonly action: string | undefined;
  readonly bytes: number;
  /** The kinds of the actions carried out, e.g. ['forward', 'mirror']. */
  readonly actions: readonly string[];
}

export type LinkStateName = 'connecting' | 'open' | 'waiting' | 'paused' | 'closed';

export interface LinkStateMessage {
  readonly chargerId: string;
  readonly secondary: string;
  readonly state: LinkStateName;
  /** Why, for 'waiting' and 'closed' (refused, unreachable, timeout, disconnected, session ended). */
  readonly reason?: string;
}

export interface OutboxMessage {
  readonly chargerId: string;
  readonly secondary: string;
  readonly seq: number;
  readonly action: string;
  readonly bytes: number;
}

export type DropReason = 'queue-full' | 'store-overloaded' | 'store-failed' | 'unsendable' | 'max-attempts';

export interface OutboxDroppedMessage extends OutboxMessage {
  readonly reason: DropReason;
}

export interface OutboxBacklogMessage {
  readonly chargerId: string;
  readonly secondary: string;
  readonly messages: number;
  readonly bytes: number;
  /** `enqueuedAt` of the oldest undelivered entry; null when empty. */
  readonly oldestEnqueuedAt: number | null;
}

export interface StoreCommitMessage {
  readonly engine: string;
  readonly durationMs: number;
  readonly writes: number;
}

export interface StoreErrorMessage {
  readonly engine: string;
  readonly code: string;
  readonly pendingWrites: number;
}

export interface LeaseMessage {
  readonly chargerId: string;
  readonly owner: string;
  readonly token: number;
}

export interface SecondaryCommandMessage {
  readonly chargerId: string;
  readonly secondary: string;
  readonly action: string;
  readonly outcome: 'forwarded' | 'answered_locally' | 'refused';
}

export interface SessionMessage {
  readonly chargerId: string;
  /** Unique per session in this process: tells a replaced session's end from its successor's. */
  readonly sessionId: number;
  readonly protocol: string;
  /** Where the charger connected from (as logged: X-Forwarded-For under trust_proxy). */
  readonly remoteAddress?: string;
  /**
   * The session's frame counters (frame-counts.ts), live: read them when asked, never write them. Counting
   * every frame through a channel would cost every frame a message; this costs it a few nanoseconds.
   */
  readonly frames?: FrameCounts;
}

/** One charger upgrade request decided: let through (the 101 sent) or refused. */
export interface HandshakeMessage {
  /** Unknown when the request was refused before its identity was read. */
  readonly chargerId: string | undefined;
  readonly outcome: 'accepted' | 'refused';
  /** Why it was refused: an ErrorCode of the catalog (src/errors.ts). */
  readonly code?: string;
  /** The HTTP status the charger got (101 when accepted). */
  readonly status: number;
  readonly remoteAddress: string | undefined;
}

/** Which socket of a charger's session a frame travelled on. */
export type FrameLeg = 'charger' | 'primary' | 'secondary';

/** Identifies a socket for `frameData`: set on the legs of a session and on its secondary links. */
export interface FrameTap {
  readonly chargerId: string;
  readonly leg: FrameLeg;
  /** The secondary's label when `leg` is 'secondary'. */
  readonly secondary?: string;
}

/** One frame received ('in') or sent ('out') by the proxy on one leg, with its bytes. Published only while subscribed. */
export interface FrameDataMessage extends FrameTap {
  readonly direction: 'in' | 'out';
  /** An 'out' frame that is another leg's 'in' frame passed on byte for byte (charger ↔ primary). */
  readonly forwarded: boolean;
  readonly data: Buffer | string;
  readonly isBinary: boolean;
  /** Epoch ms. */
  readonly at: number;
}

export interface ChargerCallAnsweredMessage {
  readonly chargerId: string;
  readonly action: string;
  /** From the charger's CALL until the primary's answer went back. */
  readonly durationMs: number;
}

function channel<T>(name: string) {
  const ch = diagnosticsChannel.channel(name);
  return {
    name,
    get hasSubscribers(): boolean {
      return ch.hasSubscribers;
    },
    publish(message: T): void {
      if (ch.hasSubscribers) ch.publish(message);
    },
    /** A listener that throws is logged by no one and never reaches the frame path: the error is swallowed here. */
    subscribe(listener: (message: T) => void): () => void {
      const wrapped = (message: unknown): void => {
        try {
          listener(message as T);
        } catch {
          // An observer's bug must not crash the proxy (diagnostics_channel rethrows asynchronously otherwise).
        }
      };
      ch.subscribe(wrapped);
      return () => ch.unsubscribe(wrapped);
    },
  };
}

/** The one list of channels. Names are stable: subscribers outside this repo may use them. */
export const channels = {
  sessionStarted: channel<SessionMessage>('ocpp-splitter:session:started'),
  sessionEnded: channel<SessionMessage>('ocpp-splitter:session:ended'),
  handshake: channel<HandshakeMessage>('ocpp-splitter:handshake'),
  frameData: channel<FrameDataMessage>('ocpp-splitter:frame:data'),
  frameRouted: channel<FrameRoutedMessage>('ocpp-splitter:frame:routed'),
  chargerCallAnswered: channel<ChargerCallAnsweredMessage>('ocpp-splitter:primary:call-answered'),
  linkState: channel<LinkStateMessage>('ocpp-splitter:link:state'),
  outboxAppended: channel<OutboxMessage>('ocpp-splitter:outbox:appended'),
  outboxAcked: channel<OutboxMessage>('ocpp-splitter:outbox:acked'),
  outboxDropped: channel<OutboxDroppedMessage>('ocpp-splitter:outbox:dropped'),
  outboxBacklog: channel<OutboxBacklogMessage>('ocpp-splitter:outbox:backlog'),
  storeCommit: channel<StoreCommitMessage>('ocpp-splitter:store:commit'),
  storeError: channel<StoreErrorMessage>('ocpp-splitter:store:error'),
  leaseAcquired: channel<LeaseMessage>('ocpp-splitter:lease:acquired'),
  leaseLost: channel<LeaseMessage>('ocpp-splitter:lease:lost'),
  leaseReleased: channel<LeaseMessage>('ocpp-splitter:lease:released'),
  secondaryCommand: channel<SecondaryCommandMessage>('ocpp-splitter:secondary:command'),
} as const;

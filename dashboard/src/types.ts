/**
 * The admin API's JSON, as the dashboard reads it (snake_case, as sent). Only what the pages use is
 * typed; the server may send more.
 */

export type Leg = 'charger' | 'primary' | 'secondary';
export type LinkState = 'connecting' | 'open' | 'waiting' | 'paused' | 'closed';
export type FrameType = 'call' | 'callresult' | 'callerror' | 'callresulterror' | 'send' | 'invalid';

export interface Status {
  readonly version: string;
  readonly uptime_s: number;
  readonly started_at: string;
  readonly store: { readonly engine: string } | null;
  readonly config: {
    readonly port: number;
    readonly host: string;
    readonly primary_csms_url: string;
    readonly secondaries: ReadonlyArray<{ readonly name: string; readonly url: string }>;
    readonly workers: number;
    readonly admin_port: number;
  };
  readonly counts: {
    readonly chargers: number;
    readonly pending_handshakes: number;
    readonly secondaries: number;
    readonly secondaries_paused: number;
    readonly links_connected: number;
    readonly outbox_messages: number;
    readonly outbox_bytes: number;
  };
  readonly frames_total: Readonly<Record<Leg, number>>;
  /** Handshake outcome → count. */
  readonly handshakes: Readonly<Record<string, number>>;
}

export interface ChargerLink {
  readonly name: string;
  readonly state: LinkState;
  readonly outbox_messages: number;
  readonly outbox_bytes: number;
  readonly oldest_age_s: number | null;
}

export interface Charger {
  readonly id: string;
  readonly protocol: string;
  readonly remote_address: string | null;
  readonly connected_at: string;
  readonly last_frame_at: string | null;
  readonly primary: { readonly state: 'open' | 'closing' };
  readonly secondaries: readonly ChargerLink[];
}

export interface ChargerDetail extends Charger {
  /** Oldest first. */
  readonly recent_frames: readonly Frame[];
}

export interface Secondary {
  readonly name: string;
  readonly url: string;
  readonly paused: boolean;
  readonly links_connected: number;
  readonly outbox_messages: number;
  readonly outbox_bytes: number;
  readonly oldest_age_s: number | null;
  readonly delivered_total: number;
  readonly dropped_total: number;
  readonly last_error: SecondaryError | null;
  /** Oldest first, bounded by the server; older servers sent `last_error` only. */
  readonly recent_errors?: readonly SecondaryError[];
}

export interface SecondaryError {
  readonly at: string;
  readonly message: string;
  /** The charger whose link failed. */
  readonly charger?: string;
}

export interface Frame {
  readonly at: string;
  readonly charger: string;
  readonly leg: Leg;
  readonly secondary: string | null;
  /** in: the proxy received it from that leg; out: the proxy sent it on that leg. */
  readonly direction: 'in' | 'out';
  readonly message_type: 2 | 3 | 4 | 5 | 6 | null;
  readonly type: FrameType;
  readonly message_id: string | null;
  readonly action: string | null;
  readonly bytes: number;
  /** Redacted, possibly truncated. */
  readonly body: string;
}

export interface SessionEvent {
  readonly type: 'started' | 'ended';
  readonly charger: string;
  readonly protocol: string;
}

export interface LinkEvent {
  readonly charger: string;
  readonly secondary: string;
  readonly state: LinkState;
  readonly reason?: string | null;
}

/** Sent when the server dropped frames because this client read too slowly. */
export interface DroppedEvent {
  readonly count: number;
}

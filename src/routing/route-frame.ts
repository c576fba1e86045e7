/**
 * Where every frame goes: one pure table, for every frame type from every source.
 * The session, the mirror and the secondary links carry out the actions; none of them
 * decides a route of its own. Tested exhaustively without sockets (test/routing/route-frame.test.ts).
 *
 * The invariants the table keeps (OCPP-J 1.6 §4, 2.0.1/2.1 Part 4 §4 and §6 "Local Controller"):
 * - A frame between the charger and the primary is forwarded first, as the bytes that arrived,
 *   before any mirror work; nothing on that path waits for a secondary or the store.
 * - The one exception: a charger answer to a CALL the proxy sent on a secondary's behalf
 *   goes to that secondary and never to the primary.
 * - Only the charger's CALLs and SENDs are mirrored; answers never cross to the wrong peer.
 * - Nothing from a secondary reaches the charger except through the call gate (a CALL) —
 *   its SENDs and CALLRESULTERRORs are dropped and counted.
 * - A SEND is never awaited and never occupies the one-outstanding-CALL slot.
 */
import { MessageType } from '../ocpp/frame.js';
import { scanFrameHead, type FrameHead } from '../ocpp/scan.js';

/** Who sent the frame. 'proxy' is the proxy's own timers: a resend, a boot replay, a gate timeout. */
export type RouteSource = 'charger' | 'primary' | 'secondary' | 'proxy';

/** A frame's type as the table sees it; 'invalid' is anything the head scanner cannot read (binary included). */
export type FrameKind = 'call' | 'callresult' | 'callerror' | 'callresulterror' | 'send' | 'invalid';

export const ROUTE_SOURCES: readonly RouteSource[] = ['charger', 'primary', 'secondary', 'proxy'];
export const FRAME_KINDS: readonly FrameKind[] = ['call', 'callresult', 'callerror', 'callresulterror', 'send', 'invalid'];

export type DiscardReason =
  /** A charger's answer to a proxy CALL that already timed out: it belongs to no one, least of all the primary. */
  | 'late-proxy-answer'
  /** A secondary's SEND: a one-way message the charger must never receive from a secondary. */
  | 'secondary-send'
  /** A secondary's CALLRESULTERROR: it concerns an answer the proxy made; nothing to do with it. */
  | 'secondary-callresulterror'
  /** A secondary's answer that matches nothing in flight (late, or invented). */
  | 'secondary-stray-answer'
  /** What a secondary sent is not OCPP-J and not a CALL we could answer. */
  | 'secondary-invalid';

export type RouteAction =
  /** To the other side of the charger ↔ primary pair, the bytes as received. */
  | { readonly kind: 'forward' }
  /** Append to every secondary's outbox; delivered one at a time, each waiting for its answer. */
  | { readonly kind: 'mirror-call' }
  /** Append to every secondary's outbox; written once, never awaited. */
  | { readonly kind: 'mirror-send' }
  /** The primary sent the charger a CALL: proxy CALLs wait until the charger has answered it. */
  | { readonly kind: 'hold-gate' }
  /** The charger answered (maybe) the primary's outstanding CALL: the gate may send the next proxy CALL. */
  | { readonly kind: 'release-gate' }
  /** The primary answered a charger CALL: the mirror learns from it (1.6 transactionId of a start). */
  | { readonly kind: 'learn-primary-answer' }
  /** The charger answered a proxy CALL: re-addressed to the secondary's id and delivered to it. */
  | { readonly kind: 'answer-secondary-command' }
  /** A secondary answered the mirrored CALL in flight: acknowledged in its outbox. */
  | { readonly kind: 'ack-delivery' }
  /** A secondary's CALL: decided by its command policy (forward through the gate, answer locally, refuse). */
  | { readonly kind: 'secondary-command' }
  /** A secondary's malformed frame that claims to be a CALL: answered with a CALLERROR FormatViolation. */
  | { readonly kind: 'refuse-malformed-call' }
  /** Counted and logged, sent nowhere. */
  | { readonly kind: 'discard'; readonly reason: DiscardReason }
  /** The proxy's own frame to a secondary (a resend, the replayed BootNotification). */
  | { readonly kind: 'send-to-secondary' }
  /** The proxy's own CALL to the charger (a secondary's command), through the gate. */
  | { readonly kind: 'send-to-charger' };

/** What the table must know beyond the frame's type; everything else is in the frame. */
export interface RouteFacts {
  /** The session mirrors to at least one secondary. */
  readonly mirroring: boolean;
  /** For a charger answer (or a malformed frame whose id can still be read): its id is the gate's CALL in flight. */
  readonly answersProxyCall: boolean;
  /** For a charger answer: its id is a proxy CALL that timed out (remembered for a while). */
  readonly answersExpiredProxyCall: boolean;
  /** For a secondary answer: its id is the mirrored CALL in flight to that secondary. */
  readonly answersDelivery: boolean;
  /** For a secondary's invalid frame: it still reads as a CALL with an id, so it can be answered. */
  readonly looksLikeCall: boolean;
}

export const NO_FACTS: RouteFacts = {
  mirroring: false,
  answersProxyCall: false,
  answersExpiredProxyCall: false,
  answersDelivery: false,
  looksLikeCall: false,
};

const FORWARD: RouteAction = { kind: 'forward' };
const MIRROR_CALL: RouteAction = { kind: 'mirror-call' };
const MIRROR_SEND: RouteAction = { kind: 'mirror-send' };
const HOLD_GATE: RouteAction = { kind: 'hold-gate' };
const RELEASE_GATE: RouteAction = { kind: 'release-gate' };
const LEARN: RouteAction = { kind: 'learn-primary-answer' };
const ANSWER_SECONDARY: RouteAction = { kind: 'answer-secondary-command' };
const ACK: RouteAction = { kind: 'ack-delivery' };
const COMMAND: RouteAction = { kind: 'secondary-command' };
const REFUSE_MALFORMED: RouteAction = { kind: 'refuse-malformed-call' };
const discard = (reason: DiscardReason): RouteAction => ({ kind: 'discard', reason });

// Pre-built lists: the hot path allocates nothing to route a frame.
const ONLY_FORWARD = [FORWARD] as const;
const FORWARD_MIRROR_CALL = [FORWARD, MIRROR_CALL] as const;
const FORWARD_MIRROR_SEND = [FORWARD, MIRROR_SEND] as const;
const FORWARD_RELEASE = [FORWARD, RELEASE_GATE] as const;
const FORWARD_HOLD = [FORWARD, HOLD_GATE] as const;
const FORWARD_LEARN = [FORWARD, LEARN] as const;
const TO_SECONDARY = [ANSWER_SECONDARY] as const;
const LATE = [discard('late-proxy-answer')] as const;
const ONLY_ACK = [ACK] as const;
const ONLY_COMMAND = [COMMAND] as const;
const STRAY = [discard('secondary-stray-answer')] as const;
const SECONDARY_SEND = [discard('secondary-send')] as const;
const SECONDARY_CRE = [discard('secondary-callresulterror')] as const;
const SECONDARY_INVALID = [discard('secondary-invalid')] as const;
const SECONDARY_MALFORMED_CALL = [discard('secondary-invalid'), REFUSE_MALFORMED] as const;
const TO_SECONDARY_LINK = [{ kind: 'send-to-secondary' }] as const satisfies readonly RouteAction[];
const TO_CHARGER_GATE = [{ kind: 'send-to-charger' }] as const satisfies readonly RouteAction[];

const KINDS_OF = new WeakMap<readonly RouteAction[], readonly string[]>();

/**
 * The kinds of `actions`, e.g. ['forward', 'mirror-call'], for the diagnostics channels. The table's answers are
 * constants, so each list is made once, not once per frame.
 */
export function actionKinds(actions: readonly RouteAction[]): readonly string[] {
  let kinds = KINDS_OF.get(actions);
  if (kinds === undefined) {
    kinds = actions.map((action) => action.kind);
    KINDS_OF.set(actions, kinds);
  }
  return kinds;
}

/**
 * The actions for one frame, in the order they must be carried out: a `forward`, when
 * there is one, always comes first.
 */
export function routeFrame(source: RouteSource, kind: FrameKind, facts: RouteFacts): readonly RouteAction[] {
  switch (source) {
    case 'charger':
      return routeFromCharger(kind, facts);
    case 'primary':
      return routeFromPrimary(kind, facts);
    case 'secondary':
      return routeFromSecondary(kind, facts);
    case 'proxy':
      // The proxy's own frames: a CALL to a secondary (resend, boot replay) or to the charger (through the gate).
      return kind === 'call' ? (facts.mirroring ? TO_SECONDARY_LINK : TO_CHARGER_GATE) : TO_SECONDARY_LINK;
  }
}

function routeFromCharger(kind: FrameKind, facts: RouteFacts): readonly RouteAction[] {
  switch (kind) {
    case 'call':
      return facts.mirroring ? FORWARD_MIRROR_CALL : ONLY_FORWARD;
    case 'send':
      // OCPP 2.1 SEND: forwarded and mirrored, never awaited by anyone.
      return facts.mirroring ? FORWARD_MIRROR_SEND : ONLY_FORWARD;
    case 'callresult':
    case 'callerror':
      if (facts.answersProxyCall) return TO_SECONDARY;
      if (facts.answersExpiredProxyCall) return LATE;
      // An answer to the primary's CALL (or one we cannot place: a direct connection would deliver it too).
      return facts.mirroring ? FORWARD_RELEASE : ONLY_FORWARD;
    case 'callresulterror':
      // It concerns a CALLRESULT the charger received, which only the primary sends it.
      return ONLY_FORWARD;
    case 'invalid':
      // A malformed answer still addressed to a proxy CALL (its id read leniently) is that CALL's
      // answer: never the primary's business.
      if (facts.answersProxyCall) return TO_SECONDARY;
      if (facts.answersExpiredProxyCall) return LATE;
      // Not ours to judge: the primary answers it as it would on a direct connection.
      return ONLY_FORWARD;
  }
}

function routeFromPrimary(kind: FrameKind, facts: RouteFacts): readonly RouteAction[] {
  switch (kind) {
    case 'call':
      return facts.mirroring ? FORWARD_HOLD : ONLY_FORWARD;
    case 'callresult':
    case 'callerror':
      return facts.mirroring ? FORWARD_LEARN : ONLY_FORWARD;
    case 'callresulterror':
    case 'send':
    case 'invalid':
      return ONLY_FORWARD;
  }
}

function routeFromSecondary(kind: FrameKind, facts: RouteFacts): readonly RouteAction[] {
  switch (kind) {
    case 'call':
      return ONLY_COMMAND;
    case 'callresult':
    case 'callerror':
      return facts.answersDelivery ? ONLY_ACK : STRAY;
    case 'callresulterror':
      return SECONDARY_CRE;
    case 'send':
      return SECONDARY_SEND;
    case 'invalid':
      return facts.looksLikeCall ? SECONDARY_MALFORMED_CALL : SECONDARY_INVALID;
  }
}

/** The frame's kind and head, read from its first bytes only (never the payload). */
export function classifyFrame(data: Buffer | string, isBinary: boolean): { readonly kind: FrameKind; readonly head: FrameHead | undefined } {
  if (isBinary) return { kind: 'invalid', head: undefined };
  const head = scanFrameHead(data);
  if (head === undefined) return { kind: 'invalid', head: undefined };
  return { kind: kindOf(head.type), head };
}

export function kindOf(type: MessageType): FrameKind {
  switch (type) {
    case MessageType.Call:
      return 'call';
    case MessageType.CallResult:
      return 'callresult';
    case MessageType.CallError:
      return 'callerror';
    case MessageType.CallResultError:
      return 'callresulterror';
    case MessageType.Send:
      return 'send';
  }
}

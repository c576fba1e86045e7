/**
 * The JSON documents of the status API (snake_case, as the config file): built from the proxy's registry of
 * sessions (the truth about who is connected), the observer (what happened), and the store's backlog. The
 * shapes are described in openapi.ts, and a test checks every answer against them.
 */
import type { Config } from '../config/schema.js';
import type { Proxy } from '../proxy.js';
import type { ChargerSession } from '../session/session.js';
import { LAST_FRAME_AT } from '../diagnostics/frame-counts.js';
import { redactUrl } from '../util/redact-url.js';
import { VERSION } from '../version.js';
import { ageSeconds, totalsBy, type BacklogCache } from './backlog-cache.js';
import { inspectFrame } from './inspect-frame.js';
import type { ProxyObserver, RecentFrame } from './observer.js';

/** Characters of a frame's text shown in the status API and the live stream. */
export const FRAME_BODY_MAX_CHARS = 64 * 1024;

export interface StatusSources {
  readonly proxy: Proxy;
  readonly observer: ProxyObserver;
  readonly backlog: BacklogCache;
  readonly config: Readonly<Config>;
}

export interface SecondaryOfCharger {
  readonly name: string;
  readonly state: string;
  readonly outbox_messages: number;
  readonly outbox_bytes: number;
  readonly oldest_age_s: number | null;
}

export interface ChargerStatus {
  readonly id: string;
  readonly protocol: string;
  readonly remote_address: string | null;
  readonly connected_at: string;
  readonly last_frame_at: string | null;
  readonly primary: { readonly state: string };
  readonly secondaries: readonly SecondaryOfCharger[];
}

export interface FrameJson {
  readonly at: string;
  readonly charger: string;
  readonly leg: string;
  readonly secondary: string | null;
  readonly direction: 'in' | 'out';
  readonly message_type: number | null;
  readonly type: string;
  readonly message_id: string | null;
  readonly action: string | null;
  readonly bytes: number;
  readonly body: string;
}

export interface StatusJson {
  readonly version: string;
  readonly uptime_s: number;
  readonly started_at: string;
  readonly store: {
    readonly engine: string;
    /** When the backlog counts below were read from the store (they are cached a few seconds). */
    readonly backlog_read_at: string | null;
    /** Why the last read of the backlog failed (then the counts are those of backlog_read_at); null when it did not. */
    readonly backlog_error: string | null;
  } | null;
  readonly config: Readonly<Record<string, unknown>>;
  readonly counts: {
    readonly chargers: number;
    readonly pending_handshakes: number;
    readonly secondaries: number;
    readonly secondaries_paused: number;
    readonly links_connected: number;
    readonly outbox_messages: number;
    readonly outbox_bytes: number;
  };
  readonly frames_total: Readonly<Record<string, number>>;
  readonly handshakes: Readonly<Record<string, number>>;
}

export interface SecondaryErrorJson {
  readonly at: string;
  readonly charger: string;
  readonly message: string;
}

export interface SecondaryJson {
  readonly name: string;
  readonly url: string;
  readonly paused: boolean;
  readonly links_connected: number;
  readonly outbox_messages: number;
  readonly outbox_bytes: number;
  readonly oldest_age_s: number | null;
  readonly delivered_total: number;
  readonly dropped_total: number;
  readonly last_error: SecondaryErrorJson | null;
  readonly recent_errors: readonly SecondaryErrorJson[];
}

export type ChargerDetailJson = ChargerStatus & { readonly recent_frames: FrameJson[] };

export async function statusDocument(sources: StatusSources): Promise<StatusJson> {
  const { proxy, observer, config } = sources;
  const secondaries = proxy.secondaries();
  const totals = totalsBy(await sources.backlog.get(), () => 'all').get('all');
  const frames: Record<string, number> = { charger: 0, primary: 0, secondary: 0 };
  for (const [key, count] of observer.frameTotals()) {
    const source = key.split('\0', 1)[0] ?? '';
    frames[source] = (frames[source] ?? 0) + count;
  }
  let linksConnected = 0;
  for (const view of observer.chargers.values()) for (const state of view.links.values()) if (state === 'open') linksConnected += 1;
  const stats = proxy.stats();
  return {
    version: VERSION,
    uptime_s: Math.round((Date.now() - observer.startedAt) / 1000),
    started_at: new Date(observer.startedAt).toISOString(),
    store: proxy.storeEngine === undefined ? null : storeHealth(proxy.storeEngine, sources.backlog),
    config: {
      port: proxy.address()?.port ?? config.port,
      host: config.host ?? null,
      primary_csms_url: redactUrl(config.primary_csms_url),
      secondaries: secondaries.map((secondary) => ({ name: secondary.label, url: secondary.url })),
      workers: config.workers,
      admin_port: config.admin_port,
      log_level: config.log_level,
      data_dir: config.data_dir,
    },
    counts: {
      chargers: stats.chargers,
      pending_handshakes: stats.pendingHandshakes,
      secondaries: secondaries.length,
      secondaries_paused: secondaries.filter((secondary) => secondary.paused).length,
      links_connected: linksConnected,
      outbox_messages: totals?.messages ?? 0,
      outbox_bytes: totals?.bytes ?? 0,
    },
    frames_total: frames,
    handshakes: Object.fromEntries(observer.handshakes),
  };
}

function storeHealth(engine: string, backlog: BacklogCache): NonNullable<StatusJson['store']> {
  const { readAt, error } = backlog.health;
  return { engine, backlog_read_at: readAt === undefined ? null : new Date(readAt).toISOString(), backlog_error: error ?? null };
}

export async function chargerList(sources: StatusSources): Promise<ChargerStatus[]> {
  const backlog = await chargerBacklog(sources);
  return sources.proxy.sessions
    .all()
    .map((session) => chargerStatus(sources, session, backlog))
    .sort((a, b) => a.id.localeCompare(b.id));
}

export async function chargerDetail(sources: StatusSources, chargerId: string): Promise<ChargerDetailJson | undefined> {
  const session = sources.proxy.sessions.get(chargerId);
  if (session === undefined) return undefined;
  // Its frames are recorded from the first look on (observer.ts, WATCH_MS).
  sources.observer.watch(chargerId);
  const status = chargerStatus(sources, session, await chargerBacklog(sources));
  return { ...status, recent_frames: sources.observer.recentFrames(chargerId).map((frame) => recentFrameJson(chargerId, frame)) };
}

export async function secondaryList(sources: StatusSources): Promise<SecondaryJson[]> {
  const { proxy, observer } = sources;
  const totals = totalsBy(await sources.backlog.get(), (row) => row.secondary);
  const now = Date.now();
  return proxy.secondaries().map((secondary) => {
    let links = 0;
    for (const view of observer.chargers.values()) if (view.links.get(secondary.label) === 'open') links += 1;
    const total = totals.get(secondary.label);
    const view = observer.secondaries.get(secondary.label);
    const lastError = view?.errors.at(-1);
    let dropped = 0;
    for (const count of view?.dropped.values() ?? []) dropped += count;
    return {
      name: secondary.label,
      url: secondary.url,
      paused: secondary.paused,
      links_connected: links,
      outbox_messages: total?.messages ?? 0,
      outbox_bytes: total?.bytes ?? 0,
      oldest_age_s: ageSeconds(total?.oldestEnqueuedAt ?? null, now),
      delivered_total: view?.delivered ?? 0,
      dropped_total: dropped + (view?.skipped ?? 0),
      last_error: lastError === undefined ? null : { at: new Date(lastError.at).toISOString(), charger: lastError.chargerId, message: lastError.message },
      recent_errors: (view?.errors ?? []).map((error) => ({ at: new Date(error.at).toISOString(), charger: error.chargerId, message: error.message })),
    };
  });
}

/** A frame of the live stream, as JSON, its body redacted (inspect-frame.ts). */
export function frameJson(
  chargerId: string,
  frame: { at: number; leg: string; secondary: string | undefined; direction: 'in' | 'out'; data: Buffer | string; isBinary: boolean },
): FrameJson {
  return { ...whereAndWhen(chargerId, frame), ...inspectFrame(frame.data, frame.isBinary, FRAME_BODY_MAX_CHARS) };
}

/** When a frame passed, and on which leg of which charger, in which direction. */
function whereAndWhen(
  chargerId: string,
  frame: { at: number; leg: string; secondary: string | undefined; direction: 'in' | 'out' },
): Pick<FrameJson, 'at' | 'charger' | 'leg' | 'secondary' | 'direction'> {
  return { at: new Date(frame.at).toISOString(), charger: chargerId, leg: frame.leg, secondary: frame.secondary ?? null, direction: frame.direction };
}

/** A frame of the recent list: whole when it was small enough to keep, else its head and size. */
function recentFrameJson(chargerId: string, frame: RecentFrame): FrameJson {
  if (frame.text !== undefined) return frameJson(chargerId, { ...frame, data: frame.text });
  const { head } = frame;
  return {
    ...whereAndWhen(chargerId, frame),
    message_type: head?.type ?? null,
    type: head?.kind ?? 'invalid',
    message_id: head?.id ?? null,
    action: head?.action ?? null,
    bytes: frame.bytes,
    body: frame.isBinary ? `[binary frame, ${frame.bytes} bytes]` : `[${frame.bytes} bytes: too large to keep in the recent list; the live stream shows it whole]`,
  };
}

type ChargerBacklog = Map<string, { messages: number; bytes: number; oldestEnqueuedAt: number | null }>;

async function chargerBacklog(sources: StatusSources): Promise<ChargerBacklog> {
  return totalsBy(await sources.backlog.get(), (row) => `${row.chargerId}\0${row.secondary}`);
}

function chargerStatus(sources: StatusSources, session: ChargerSession, backlog: ChargerBacklog): ChargerStatus {
  const view = sources.observer.chargers.get(session.identity);
  const sameSession = view?.sessionId === session.sessionId;
  const lastFrameAt = session.frameCounts[LAST_FRAME_AT];
  const now = Date.now();
  return {
    id: session.identity,
    protocol: session.subprotocol,
    remote_address: session.remoteAddress ?? null,
    connected_at: new Date(session.connectedAt).toISOString(),
    last_frame_at: lastFrameAt === undefined || lastFrameAt === 0 ? null : new Date(lastFrameAt).toISOString(),
    primary: { state: session.state },
    secondaries: sources.proxy.secondaries().map((secondary) => {
      const waiting = backlog.get(`${session.identity}\0${secondary.label}`);
      const state = (sameSession ? view.links.get(secondary.label) : undefined) ?? (secondary.paused ? 'paused' : 'connecting');
      return {
        name: secondary.label,
        state,
        outbox_messages: waiting?.messages ?? 0,
        outbox_bytes: waiting?.bytes ?? 0,
        oldest_age_s: ageSeconds(waiting?.oldestEnqueuedAt ?? null, now),
      };
    }),
  };
}

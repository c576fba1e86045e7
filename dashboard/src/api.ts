/**
 * The admin API client. Every URL is relative to the page, so the dashboard works under any path prefix
 * (Home Assistant's ingress serves it at /api/hassio_ingress/<token>/).
 */
import { authHeaders, requireToken } from './auth.js';
import type { Charger, ChargerDetail, Secondary, Status } from './types.js';

/** A non-2xx answer; `status` 401 also raises the token form. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(path, {
    ...init,
    headers: { Accept: 'application/json', ...authHeaders(), ...init.headers },
    cache: 'no-store',
  });
  if (response.status === 401) requireToken();
  if (!response.ok) throw new ApiError(response.status, await errorText(response));
  return response;
}

/** The `{ error }` body the server answers with, or the status line. */
async function errorText(response: Response): Promise<string> {
  const statusLine = `${String(response.status)} ${response.statusText}`.trim();
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    return statusLine; // not JSON (a reverse proxy's error page): the status line says enough
  }
  return typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'string' ? body.error : statusLine;
}

// The server is this package's own; its shapes are pinned by the browser tests, so the answers are
// trusted as typed here rather than re-validated field by field.
async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await request(path, { signal: signal ?? null });
  return (await response.json()) as T;
}

const enc = encodeURIComponent;

export const api = {
  status: (signal?: AbortSignal) => getJson<Status>('api/status', signal),
  chargers: (signal?: AbortSignal) => getJson<Charger[]>('api/chargers', signal),
  charger: (id: string, signal?: AbortSignal) => getJson<ChargerDetail>(`api/chargers/${enc(id)}`, signal),
  secondaries: (signal?: AbortSignal) => getJson<Secondary[]>('api/secondaries', signal),
  disconnect: (id: string) => request(`api/chargers/${enc(id)}/disconnect`, { method: 'POST' }),
  pauseSecondary: (name: string, paused: boolean) =>
    request(`api/secondaries/${enc(name)}/${paused ? 'pause' : 'resume'}`, { method: 'POST' }),
  /** The Server-Sent Events URL for one charger (all legs). */
  eventsUrl: (charger: string) => `api/events?charger=${enc(charger)}`,
};

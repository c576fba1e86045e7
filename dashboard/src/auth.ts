/**
 * The admin token: asked for only when a request comes back 401 (over loopback or Home Assistant's
 * ingress none is needed), kept in sessionStorage so it dies with the tab.
 */

const TOKEN_KEY = 'ocpp-splitter.admin-token';

type Listener = () => void;
const listeners = new Set<Listener>();
let tokenRequired = false;

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string): void {
  sessionStorage.setItem(TOKEN_KEY, value);
  tokenRequired = false;
  notify();
}

/** Whether the last request was refused for want of a (valid) token. */
export function isTokenRequired(): boolean {
  return tokenRequired;
}

export function requireToken(): void {
  if (tokenRequired) return;
  tokenRequired = true;
  notify();
}

/** Called whenever the token or the need for one changes; returns the unsubscribe. */
export function onAuthChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function authHeaders(): Record<string, string> {
  const value = token();
  return value === null ? {} : { Authorization: `Bearer ${value}` };
}

function notify(): void {
  for (const listener of listeners) listener();
}

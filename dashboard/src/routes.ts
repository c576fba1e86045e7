/**
 * Hash routes (#/, #/chargers/<id>, #/secondaries/<name>): the path stays that of index.html, so the
 * dashboard works under any prefix a reverse proxy or Home Assistant's ingress puts in front of it.
 */
export type Route =
  | { readonly page: 'overview' }
  | { readonly page: 'charger'; readonly id: string }
  | { readonly page: 'secondary'; readonly name: string }
  | { readonly page: 'not-found'; readonly hash: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  if (path === '' || path === '/') return { page: 'overview' };
  const match = /^\/(chargers|secondaries)\/([^/]+)$/.exec(path);
  const kind = match?.[1];
  const name = decodePart(match?.[2]);
  if (kind === 'chargers' && name !== null) return { page: 'charger', id: name };
  if (kind === 'secondaries' && name !== null) return { page: 'secondary', name };
  return { page: 'not-found', hash };
}

export const href = {
  overview: (): string => '#/',
  charger: (id: string): string => `#/chargers/${encodeURIComponent(id)}`,
  secondary: (name: string): string => `#/secondaries/${encodeURIComponent(name)}`,
};

function decodePart(part: string | undefined): string | null {
  if (part === undefined) return null;
  try {
    return decodeURIComponent(part);
  } catch {
    return null; // a malformed %-escape: not a route
  }
}

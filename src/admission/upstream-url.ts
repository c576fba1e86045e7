/**
 * Builds the URL the proxy dials for one charger: the configured endpoint with
 * the charger's identity segment appended (OCPP-J: endpoint + "/" + identity).
 * The endpoint's own path and query are kept. With `appendIdentity` false the
 * endpoint is used as it is, for CSMSs that give one full URL per charger.
 */
export function buildUpstreamUrl(endpoint: string, identitySegment: string, appendIdentity: boolean): string {
  const url = new URL(endpoint);
  if (appendIdentity) {
    const base = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
    // The segment is already percent-encoded (canonically, see extractIdentity);
    // the pathname setter leaves existing %XX escapes alone.
    url.pathname = base + identitySegment;
  }
  return url.toString();
}

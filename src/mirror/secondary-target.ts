/**
 * Where one charger's mirror to one secondary connects, and as whom: a pure
 * function of the config and the charger's handshake.
 */
import { buildUpstreamUrl } from '../admission/upstream-url.js';
import type { SecondaryConfig } from '../config/schema.js';

export interface SecondaryTarget {
  readonly url: string;
  /** The Authorization header to send, if any. */
  readonly headers: Readonly<Record<string, string>>;
  /** charger_map's id_tag for this (charger, secondary), if any. */
  readonly idTagOverride: string | undefined;
}

/**
 * charger_map entries give a charger another id (and password, and id tag) at one secondary. Without a
 * password of its own the charger's Authorization header is passed on only when `forward_authorization` says so.
 */
export function secondaryTarget(
  secondary: SecondaryConfig,
  chargerId: string,
  rawSegment: string,
  chargerAuthorization: string | undefined,
): SecondaryTarget {
  const mapping = secondary.charger_map.find((entry) => entry.charger_id === chargerId);
  const segment = mapping?.mapped_charger_id === undefined ? rawSegment : encodeURIComponent(mapping.mapped_charger_id);
  const url = buildUpstreamUrl(secondary.url, segment, secondary.append_charge_point_id);
  const headers: Record<string, string> = {};
  if (mapping?.password !== undefined) {
    const user = mapping.mapped_charger_id ?? chargerId;
    headers.Authorization = `Basic ${Buffer.from(`${user}:${mapping.password}`).toString('base64')}`;
  } else if (secondary.forward_authorization && chargerAuthorization !== undefined) {
    headers.Authorization = chargerAuthorization;
  }
  return { url, headers, idTagOverride: mapping?.id_tag };
}

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
 * Whether `secondary` gets the charger's own Authorization header (its HTTP Basic password) where charger_map
 * gives no password: as `forward_authorization` says when it is set, else only over wss://, so that a
 * charger's password never crosses a network in plain text unless the operator asked for it.
 */
export function forwardsChargerAuthorization(secondary: SecondaryConfig): boolean {
  return secondary.forward_authorization ?? new URL(secondary.url).protocol === 'wss:';
}

/**
 * charger_map entries give a charger another id (and password, and id tag) at one secondary. Without a
 * password of its own the charger's Authorization header is passed on only where
 * {@link forwardsChargerAuthorization} allows it.
 */
export function secondaryTarget(
  secondary: SecondaryConfig,
  chargerId: string,
  urlSegment: string,
  chargerAuthorization: string | undefined,
): SecondaryTarget {
  const mapping = secondary.charger_map.find((entry) => entry.charger_id === chargerId);
  const segment = mapping?.mapped_charger_id === undefined ? urlSegment : encodeURIComponent(mapping.mapped_charger_id);
  const url = buildUpstreamUrl(secondary.url, segment, secondary.append_charge_point_id);
  const headers: Record<string, string> = {};
  if (mapping?.password !== undefined) {
    const user = mapping.mapped_charger_id ?? chargerId;
    headers.Authorization = `Basic ${Buffer.from(`${user}:${mapping.password}`).toString('base64')}`;
  } else if (mapping?.password_file !== undefined) {
    // The file is read by resolveConfig; a config that skipped it sends no credentials rather than the charger's.
  } else if (forwardsChargerAuthorization(secondary) && chargerAuthorization !== undefined) {
    headers.Authorization = chargerAuthorization;
  }
  return { url, headers, idTagOverride: mapping?.id_tag };
}

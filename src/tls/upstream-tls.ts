/**
 * The CSMSs' side of TLS: how the proxy checks a `wss://` CSMS's certificate, and which certificate of its own
 * it shows one that asks for a client certificate (OCPP 2.0.1 Part 4 §6 "Local Controller": a charger's
 * certificate ends at the proxy, so toward the CSMS the proxy is the client and uses its own).
 *
 * The files are read once, at start; a renewed client certificate needs a restart (it is not the listener's).
 */
import type { SecureContext } from 'node:tls';
import type { Config, SecondaryConfig } from '../config/schema.js';
import { readCertificates, readFileBytes, readPrivateKey, secureContextOf, type NamedFile, type ReadFile } from './pem-files.js';

/** How one upstream's TLS is set up; nothing here when all is default (public CAs, no client certificate, verified). */
export interface UpstreamTls {
  /** The CA bundle (replacing the public CAs) and the proxy's client certificate; undefined: Node's defaults. */
  readonly secureContext: SecureContext | undefined;
  /** False only where the operator turned verification off for this upstream (warned about at start). */
  readonly rejectUnauthorized: boolean;
}

/** One upstream's TLS options, with the names the configuration gives them. */
export interface UpstreamTlsSettings {
  readonly ca: NamedFile | undefined;
  readonly cert: NamedFile | undefined;
  readonly key: NamedFile | undefined;
  readonly rejectUnauthorized: boolean;
}

/** Every upstream's TLS, read at start. */
export interface UpstreamTlsConfig {
  readonly primary: UpstreamTls | undefined;
  /** By the (frozen) config entry of each secondary that has TLS options. */
  readonly secondaries: ReadonlyMap<SecondaryConfig, UpstreamTls>;
}

export function primaryTlsSettings(config: Readonly<Config>): UpstreamTlsSettings {
  return {
    ca: named('primary_csms_ca_file', config.primary_csms_ca_file),
    cert: named('primary_csms_cert_file', config.primary_csms_cert_file),
    key: named('primary_csms_key_file', config.primary_csms_key_file),
    rejectUnauthorized: config.primary_csms_reject_unauthorized,
  };
}

export function secondaryTlsSettings(secondary: SecondaryConfig, index: number): UpstreamTlsSettings {
  const prefix = `secondary_csms[${index}]`;
  return {
    ca: named(`${prefix}.ca_file`, secondary.ca_file),
    cert: named(`${prefix}.cert_file`, secondary.cert_file),
    key: named(`${prefix}.key_file`, secondary.key_file),
    rejectUnauthorized: secondary.reject_unauthorized,
  };
}

/**
 * Reads one upstream's files; undefined when it has none and verifies (Node's defaults then apply).
 * @throws ConfigError (TlsFileInvalid) naming the option and the file.
 */
export function readUpstreamTls(settings: UpstreamTlsSettings, readFile: ReadFile = readFileBytes): UpstreamTls | undefined {
  const { ca, cert, key, rejectUnauthorized } = settings;
  if (ca === undefined && cert === undefined && key === undefined) return rejectUnauthorized ? undefined : { secureContext: undefined, rejectUnauthorized };
  const caPem = ca === undefined ? undefined : readCertificates(ca, readFile).pem;
  const certPem = cert === undefined ? undefined : readCertificates(cert, readFile).pem;
  const keyPem = key === undefined ? undefined : readPrivateKey(key, readFile);
  return { secureContext: secureContextOf({ ca: caPem, cert: certPem, key: keyPem }, { cert, key }), rejectUnauthorized };
}

/**
 * Reads the TLS files of the primary and of every secondary, once, at start.
 * @throws ConfigError (TlsFileInvalid) for the first file that cannot be used, naming its option.
 */
export function readUpstreamTlsConfig(config: Readonly<Config>, readFile: ReadFile = readFileBytes): UpstreamTlsConfig {
  const secondaries = new Map<SecondaryConfig, UpstreamTls>();
  config.secondary_csms.forEach((secondary, index) => {
    const tls = readUpstreamTls(secondaryTlsSettings(secondary, index), readFile);
    if (tls !== undefined) secondaries.set(secondary, tls);
  });
  return { primary: readUpstreamTls(primaryTlsSettings(config), readFile), secondaries };
}

function named(option: string, path: string | undefined): NamedFile | undefined {
  return path === undefined ? undefined : { option, path };
}

/** An upstream whose certificate the proxy does not check, for the warning at start. */
export interface UnverifiedUpstream {
  /** `primary`, or the secondary's label. */
  readonly upstream: string;
  /** The option that turned the check off. */
  readonly option: string;
  readonly url: string;
}

/** Every upstream with `reject_unauthorized: false` (and a wss:// URL, the only place it is allowed). */
export function unverifiedUpstreams(config: Readonly<Config>, labelOf: (secondary: SecondaryConfig) => string): UnverifiedUpstream[] {
  const found: UnverifiedUpstream[] = [];
  if (!config.primary_csms_reject_unauthorized) found.push({ upstream: 'primary', option: 'primary_csms_reject_unauthorized', url: config.primary_csms_url });
  config.secondary_csms.forEach((secondary, index) => {
    if (!secondary.reject_unauthorized) found.push({ upstream: labelOf(secondary), option: `secondary_csms[${index}].reject_unauthorized`, url: secondary.url });
  });
  return found;
}

/**
 * The admission steps of charger authentication at the proxy (`charger_auth`, `chargers`, `allowed_chargers`),
 * built once from the configuration: every password hash is parsed here, at start.
 */
import type { Config } from '../config/schema.js';
import { ConfigError, ErrorCode } from '../errors.js';
import type { AdmissionStep } from './chain.js';
import { ChargerPasswords, type ChargerPasswordsOptions } from './charger-passwords.js';
import { IdPatterns } from './id-patterns.js';
import { parsePasswordHash, type PasswordHash } from './password-hash.js';
import { authenticateCharger } from './steps/authenticate-charger.js';
import { checkAllowedCharger } from './steps/check-allowed-charger.js';

export interface ChargerAuthSteps {
  /** Cheap (a look-up): to run as soon as the identity is known. */
  readonly checkId: readonly AdmissionStep[];
  /** Costly (scrypt): to run after the cheap checks and limits, right before the primary is dialled. */
  readonly authenticate: readonly AdmissionStep[];
  /** Whether the primary gets the charger's Authorization header (not under `local`: the proxy alone decides). */
  readonly forwardAuthorizationToPrimary: boolean;
}

export type ChargerAuthConfig = Pick<Config, 'charger_auth' | 'chargers' | 'allowed_chargers'>;

/** @throws ConfigError for a `password_hash` the schema let through but that does not parse (a bug). */
export function chargerAuthSteps(
  config: Readonly<ChargerAuthConfig>,
  isConnected: (identity: string) => boolean,
  passwordOptions?: ChargerPasswordsOptions,
): ChargerAuthSteps {
  const checkId = config.allowed_chargers.length === 0 ? [] : [checkAllowedCharger(new IdPatterns(config.allowed_chargers))];
  if (config.charger_auth === 'passthrough') return { checkId, authenticate: [], forwardAuthorizationToPrimary: true };
  const hashes = new Map<string, PasswordHash>();
  config.chargers.forEach((charger, index) => {
    const parsed = parsePasswordHash(charger.password_hash);
    if (!parsed.ok) throw new ConfigError(ErrorCode.ConfigInvalid, `invalid configuration: chargers[${index}].password_hash: not a password hash: ${parsed.reason}`);
    hashes.set(charger.id, parsed.hash);
  });
  const passwords = new ChargerPasswords(hashes, passwordOptions);
  return {
    checkId,
    authenticate: [authenticateCharger({ passwords, isConnected })],
    forwardAuthorizationToPrimary: config.charger_auth === 'both',
  };
}

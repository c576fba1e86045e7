/** `charger_auth`, `chargers` and `allowed_chargers` as the loader validates them (issue 11, item 3). */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const PRIMARY = 'wss://primary.example.com/ocpp';
/** A well-formed hash (`hash-password` output); the config never checks a password against it. */
const HASH = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U';

function loadWith(file: Record<string, unknown>) {
  return resolveConfig({ flags: { config: 'config.json' }, env: {}, readFile: () => JSON.stringify({ primary_csms_url: PRIMARY, ...file }) });
}

function errorOf(file: Record<string, unknown>): string {
  try {
    loadWith(file);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('charger authentication options', () => {
  it('default to passthrough, no chargers, every id allowed', () => {
    expect(loadWith({}).config).toMatchObject({ charger_auth: 'passthrough', chargers: [], allowed_chargers: [] });
  });

  it('take local and both with chargers, and id patterns', () => {
    const { config, warnings } = loadWith({ charger_auth: 'local', chargers: [{ id: 'CP-1', password_hash: HASH }], allowed_chargers: ['CP-*', 'GARAGE'] });
    expect(config).toMatchObject({ charger_auth: 'local', chargers: [{ id: 'CP-1', password_hash: HASH }], allowed_chargers: ['CP-*', 'GARAGE'] });
    expect(warnings).toEqual([]);
    expect(loadWith({ charger_auth: 'both', chargers: [{ id: 'CP-1', password_hash: HASH }] }).config.charger_auth).toBe('both');
  });

  it('refuse a malformed password_hash, naming chargers[i].password_hash and never showing the value', () => {
    const message = errorOf({ charger_auth: 'local', chargers: [{ id: 'CP-1', password_hash: HASH }, { id: 'CP-2', password_hash: 'plain-text-password' }] });
    expect(message).toBe(
      'invalid configuration: chargers[1].password_hash="***" (config.json): not a password hash: expected scrypt$N$r$p$salt$key, as printed by ocpp-splitter hash-password',
    );
    expect(message).not.toContain('plain-text-password');
    const weak = errorOf({ charger_auth: 'local', chargers: [{ id: 'CP-1', password_hash: HASH.replace('$16384$', '$16000$') }] });
    expect(weak).toContain('chargers[0].password_hash="***"');
    expect(weak).toContain('N must be a power of two');
  });

  it('refuse local or both without chargers: every charger would be refused', () => {
    expect(errorOf({ charger_auth: 'local' })).toBe(
      'invalid configuration: charger_auth="local" (config.json): chargers is empty, so every charger would be refused: give each charger an entry (id, and password_hash printed by ocpp-splitter hash-password)',
    );
    expect(errorOf({ charger_auth: 'both', chargers: [] })).toContain('charger_auth="both" (config.json): chargers is empty');
  });

  it('refuse an unknown mode, a duplicate id, an id OCPP does not allow, and a bad pattern', () => {
    expect(errorOf({ charger_auth: 'ldap' })).toBe('invalid configuration: charger_auth="ldap" (config.json): expected one of passthrough, local, both');
    expect(errorOf({ charger_auth: 'local', chargers: [{ id: 'CP-1', password_hash: HASH }, { id: 'CP-1', password_hash: HASH }] })).toBe(
      'invalid configuration: chargers[1].id="CP-1" (config.json): duplicate id, already in chargers[0]',
    );
    expect(errorOf({ charger_auth: 'local', chargers: [{ id: 'CP:1', password_hash: HASH }] })).toContain('chargers[0].id="CP:1" (config.json): charge point identity contains characters');
    expect(errorOf({ allowed_chargers: ['CP-*', 'a b'] })).toContain('allowed_chargers[1]="a b" (config.json): charge point identity contains characters');
    expect(errorOf({ allowed_chargers: [''] })).toContain('allowed_chargers[0]');
  });

  it('warn about chargers listed under passthrough: nothing checks them', () => {
    const { warnings } = loadWith({ chargers: [{ id: 'CP-1', password_hash: HASH }] });
    expect(warnings).toEqual(['chargers lists 1 charger(s), but charger_auth is passthrough: the proxy checks no password (set charger_auth to local or both)']);
  });

  it('report an unknown key in a chargers entry with the key it was probably meant to be', () => {
    const { warnings } = loadWith({ charger_auth: 'local', chargers: [{ id: 'CP-1', password_hash: HASH, pasword_hash: 'x' }] });
    expect(warnings).toEqual(['unknown option "chargers[0].pasword_hash" in config.json (ignored): did you mean "password_hash"?']);
  });
});

/**
 * Where one charger's mirror connects, and as whom: a pure function of the config.
 */
import { describe, expect, it } from 'vitest';
import { secondaryConfigSchema } from '../../src/config/schema.js';
import { forwardsChargerAuthorization, secondaryTarget } from '../../src/mirror/secondary-target.js';

const secondary = (overrides: Record<string, unknown> = {}) => secondaryConfigSchema.parse({ url: 'wss://s.example.com/ocpp', ...overrides });
const BASIC = 'Basic Q1AtMTpzZWNyZXQ=';

describe('secondaryTarget', () => {
  it('appends the charger’s URL segment and, over wss://, forwards its Authorization header by default', () => {
    expect(secondaryTarget(secondary(), 'CP|1', 'CP%7C1', BASIC)).toEqual({
      url: 'wss://s.example.com/ocpp/CP%7C1',
      headers: { Authorization: BASIC },
      idTagOverride: undefined,
    });
  });

  // Issue 11, finding 4: every secondary without a charger_map password got the charger's credentials, over ws:// too.
  it('sends the charger’s Authorization header to a ws:// secondary only with forward_authorization: true', () => {
    const plain = (overrides: Record<string, unknown> = {}) => secondary({ url: 'ws://s.example.com/ocpp', ...overrides });
    expect(secondaryTarget(plain(), 'CP-1', 'CP-1', BASIC).headers).toEqual({});
    expect(secondaryTarget(plain({ forward_authorization: true }), 'CP-1', 'CP-1', BASIC).headers).toEqual({ Authorization: BASIC });
    expect(secondaryTarget(plain({ forward_authorization: false }), 'CP-1', 'CP-1', BASIC).headers).toEqual({});
    expect(forwardsChargerAuthorization(plain())).toBe(false);
    expect(forwardsChargerAuthorization(plain({ forward_authorization: true }))).toBe(true);
    expect(forwardsChargerAuthorization(secondary())).toBe(true);
    expect(forwardsChargerAuthorization(secondary({ url: 'WSS://S.example.com' }))).toBe(true);
    expect(forwardsChargerAuthorization(secondary({ forward_authorization: false }))).toBe(false);
  });

  it('never falls back to the charger’s credentials for an entry whose password_file was not read', () => {
    const mapped = secondary({ charger_map: [{ charger_id: 'CP-1', password_file: '/run/secrets/cp1' }] });
    expect(secondaryTarget(mapped, 'CP-1', 'CP-1', BASIC).headers).toEqual({});
  });

  it('sends no Authorization header with forward_authorization: false, nor when the charger sent none', () => {
    expect(secondaryTarget(secondary({ forward_authorization: false }), 'CP-1', 'CP-1', BASIC).headers).toEqual({});
    expect(secondaryTarget(secondary(), 'CP-1', 'CP-1', undefined).headers).toEqual({});
  });

  it('uses charger_map: the mapped id (percent-encoded), its own Basic password, and an id_tag', () => {
    const mapped = secondary({ charger_map: [{ charger_id: 'CP-1', mapped_charger_id: 'site/7', password: 'pw', id_tag: 'TAG' }] });
    expect(secondaryTarget(mapped, 'CP-1', 'CP-1', BASIC)).toEqual({
      url: 'wss://s.example.com/ocpp/site%2F7',
      headers: { Authorization: `Basic ${Buffer.from('site/7:pw').toString('base64')}` },
      idTagOverride: 'TAG',
    });
    // Other chargers are not affected by another charger's entry.
    expect(secondaryTarget(mapped, 'CP-2', 'CP-2', BASIC).url).toBe('wss://s.example.com/ocpp/CP-2');
  });

  it('keeps the URL as configured with append_charge_point_id: false', () => {
    expect(secondaryTarget(secondary({ append_charge_point_id: false }), 'CP-1', 'CP-1', undefined).url).toBe('wss://s.example.com/ocpp');
  });
});

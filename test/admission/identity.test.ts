import { describe, expect, it } from 'vitest';
import { canonicalSegment, extractIdentity, MAX_IDENTITY_LENGTH } from '../../src/admission/identity.js';

describe('extractIdentity', () => {
  it.each([
    ['/CP-1', 'CP-1', 'CP-1'],
    ['/ocpp/CP-1', 'CP-1', 'CP-1'],
    ['/ws/CP-1', 'CP-1', 'CP-1'],
    ['/a/b/c/CP-1', 'CP-1', 'CP-1'],
    ['/ocpp/CP-1?password=x&y=z', 'CP-1', 'CP-1'],
    ['/ocpp/CP-1#frag', 'CP-1', 'CP-1'],
    // '|' is the one identity character a URL path may not carry as it is: sent upstream as %7C, however it came.
    ['/ocpp/*-_=+|@.', '*-_=+|@.', '*-_=+%7C@.'],
    ['/ocpp/CP%7C1', 'CP|1', 'CP%7C1'],
    ['/ocpp/CP%7c1', 'CP|1', 'CP%7C1'],
    ['/ocpp/...', '...', '...'],
    ['/ocpp/.CP', '.CP', '.CP'],
    [`/${'x'.repeat(MAX_IDENTITY_LENGTH)}`, 'x'.repeat(48), 'x'.repeat(48)],
  ])('%s → identity %s, URL segment %s', (target, identity, urlSegment) => {
    expect(extractIdentity(target)).toEqual({ ok: true, identity, urlSegment });
  });

  // Issue 11, finding 3: every spelling of an id but the canonical one is refused, so no alias can act as a
  // connected charger, and no segment makes an upstream URL climb.
  it.each([
    ['/ocpp/%43P-1', 'needless percent-encoding (%43 is C)'],
    ['/ocpp/C%50-1', 'needless percent-encoding (%50 is P)'],
    ['/ocpp/CP%2D1', 'needless percent-encoding (%2D is -)'],
    ['/ocpp/CP%2d1', 'needless percent-encoding (%2D is -)'],
    ['/ocpp/a%2Ab', 'needless percent-encoding (%2A is *)'],
    ['/ocpp/CP%2E1', 'needless percent-encoding (%2E is .)'],
    ['/ocpp/tenant7/..', 'may not be . or ..'],
    ['/ocpp/tenant7/.', 'may not be . or ..'],
    ['/ocpp/tenant7/%2e%2e', 'may not be . or ..'],
    ['/ocpp/tenant7/%2E%2E', 'may not be . or ..'],
    ['/ocpp/tenant7/.%2e', 'may not be . or ..'],
    ['/ocpp/tenant7/%2e', 'may not be . or ..'],
  ])('refuses the alias %s (%s)', (target, reason) => {
    const result = extractIdentity(target);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it('the URL segment decodes to the identity, and is its own canonical form', () => {
    for (const identity of ['CP-1', 'a*b', 'CP|1', '*-_=+|@.', 'x.y']) {
      const segment = canonicalSegment(identity);
      expect(decodeURIComponent(segment)).toBe(identity);
      expect(extractIdentity(`/ocpp/${segment}`)).toEqual({ ok: true, identity, urlSegment: segment });
    }
  });

  it.each([
    [undefined, 'not a path'],
    ['CP-1', 'not a path'],
    ['/', 'no charge point identity'],
    ['/ocpp/', 'no charge point identity'],
    ['/ocpp/?id=CP-1', 'no charge point identity'],
    [`/${'x'.repeat(MAX_IDENTITY_LENGTH + 1)}`, 'longer than 48'],
    ['/CP%3A1', 'characters OCPP does not allow'],
    ['/CP:1', 'characters OCPP does not allow'],
    ['/CP%201', 'characters OCPP does not allow'],
    ['/CP%2F1', 'characters OCPP does not allow'],
    ['/CP%001', 'characters OCPP does not allow'],
    ['/Ladestation-Ü', 'characters OCPP does not allow'],
    ['/CP%E0%A4%A', 'percent-encoding'],
    ['/CP%', 'percent-encoding'],
  ])('refuses %s (%s)', (target, reason) => {
    const result = extractIdentity(target);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });
});

import { describe, expect, it } from 'vitest';
import { extractIdentity, MAX_IDENTITY_LENGTH } from '../../src/admission/identity.js';

describe('extractIdentity', () => {
  it.each([
    ['/CP-1', 'CP-1', 'CP-1'],
    ['/ocpp/CP-1', 'CP-1', 'CP-1'],
    ['/ws/CP-1', 'CP-1', 'CP-1'],
    ['/a/b/c/CP-1', 'CP-1', 'CP-1'],
    ['/ocpp/CP-1?password=x&y=z', 'CP-1', 'CP-1'],
    ['/ocpp/CP-1#frag', 'CP-1', 'CP-1'],
    ['/ocpp/a%2Ab', 'a*b', 'a%2Ab'],
    ['/ocpp/*-_=+|@.', '*-_=+|@.', '*-_=+|@.'],
    [`/${'x'.repeat(MAX_IDENTITY_LENGTH)}`, 'x'.repeat(48), 'x'.repeat(48)],
  ])('%s → identity %s, raw segment %s', (target, identity, rawSegment) => {
    expect(extractIdentity(target)).toEqual({ ok: true, identity, rawSegment });
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

/**
 * The strict 2.1 peer's own checks: a peer that let everything through would make every 2.1 test pass.
 */
import { describe, expect, it } from 'vitest';
import { isSendAction, parseFrame21, payloadProblem } from './ocpp21-peer.js';

const boot = { reason: 'PowerUp', chargingStation: { model: 'Volt-21', vendorName: 'Acme' } };

describe('payloadProblem (OCPP 2.1 schemas)', () => {
  it('accepts valid payloads of each kind', () => {
    expect(payloadProblem('BootNotification', 'request', boot)).toBeUndefined();
    expect(payloadProblem('BootNotification', 'response', { currentTime: '2026-03-01T10:00:00Z', interval: 300, status: 'Accepted' })).toBeUndefined();
    expect(payloadProblem('NotifyPeriodicEventStream', 'send', { id: 1, pending: 0, basetime: '2026-03-01T10:00:00Z', data: [{ t: 0, v: '1' }] })).toBeUndefined();
  });

  it('rejects extra properties, missing fields, wrong types, bad enums and bad date-times', () => {
    expect(payloadProblem('BootNotification', 'request', { ...boot, extra: 1 })).toMatch(/additional properties/);
    expect(payloadProblem('BootNotification', 'request', { reason: 'PowerUp' })).toMatch(/chargingStation/);
    expect(payloadProblem('Heartbeat', 'response', { currentTime: 12 })).toMatch(/string/);
    expect(payloadProblem('BootNotification', 'request', { ...boot, reason: 'Boot' })).toMatch(/allowed values/);
    expect(payloadProblem('Heartbeat', 'response', { currentTime: '2026-03-01 10:00' })).toMatch(/date-time/);
  });

  it('knows SENDs from CALLs and unknown actions from both', () => {
    expect(isSendAction('NotifyPeriodicEventStream')).toBe(true);
    expect(isSendAction('Heartbeat')).toBe(false);
    expect(payloadProblem('NotifyPeriodicEventStream', 'request', {})).toMatch(/is a SEND/);
    expect(payloadProblem('Heartbeat', 'send', {})).toMatch(/is a CALL/);
    expect(payloadProblem('NoSuchAction', 'request', {})).toMatch(/no OCPP 2.1 schema/);
  });
});

describe('parseFrame21 (OCPP-J 2.1 framing)', () => {
  it('reads all five message types', () => {
    expect(parseFrame21('[2,"a","Heartbeat",{}]').frame).toEqual({ type: 2, id: 'a', action: 'Heartbeat', payload: {} });
    expect(parseFrame21('[3,"a",{}]').frame).toEqual({ type: 3, id: 'a', payload: {} });
    expect(parseFrame21('[4,"a","GenericError","",{}]').frame?.type).toBe(4);
    expect(parseFrame21('[5,"a","FormatViolation","x",{}]').frame?.type).toBe(5);
    expect(parseFrame21('[6,"a","NotifyPeriodicEventStream",{}]').frame?.type).toBe(6);
  });

  it.each([
    ['not JSON', '[2,"a"', /not JSON/],
    ['not an array', '{"a":1}', /not a JSON array/],
    ['an unknown type', '[7,"a",{}]', /unknown message type/],
    ['a numeric id', '[2,1,"Heartbeat",{}]', /not a string/],
    ['a 37-character id', `[3,"${'x'.repeat(37)}",{}]`, /37 characters/],
    ['a wrong arity', '[3,"a",{},{}]', /4 elements/],
    ['an array payload', '[6,"a","NotifyPeriodicEventStream",[]]', /payload is not an object/],
    ['a 1.6 error code', '[4,"a","FormationViolation","",{}]', /not an OCPP 2.x code/],
    ['a 256-character description', `[5,"a","GenericError","${'d'.repeat(256)}",{}]`, /256 characters/],
  ])('refuses %s', (_name, text, problem) => {
    expect(parseFrame21(text).problem).toMatch(problem);
  });
});

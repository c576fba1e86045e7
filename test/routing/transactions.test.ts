import { describe, expect, it } from 'vitest';
import schema16 from 'ocpp-rpc/lib/schemas/ocpp1_6.json' with { type: 'json' };
import schema201 from 'ocpp-rpc/lib/schemas/ocpp2_0_1.json' with { type: 'json' };
import schema21 from 'ocpp-rpc/lib/schemas/ocpp2_1.json' with { type: 'json' };
import { call } from '../../src/ocpp/frame.js';
import type { OcppVersion } from '../../src/ocpp/error-codes.js';
import {
  classifyChargerCall,
  fitsIdTagLength,
  fitsLength,
  idTagMaxLength,
  isBootNotification,
  needsClassification,
  primaryTransactionIdFromStartResult,
  REWRITE_RELEVANT_ACTIONS,
} from '../../src/routing/transactions.js';
import type { ChargerCallInfo } from '../../src/routing/transactions.js';

const NOT_TRANSACTIONAL: ChargerCallInfo = { priority: 'droppable', role: 'none', txId: null, carriesIdTag: false };
const TS = '2025-03-14T09:26:53.000Z';
const TX_2X = 'b6f1d0a4-3c2e-4e57-9a11-5f0c7d2e8a90';

function classify(version: OcppVersion, action: string, payload: Record<string, unknown>): ChargerCallInfo {
  return classifyChargerCall(version, call('m-1', action, payload));
}

/** Every request action a schema file defines, from its `$id`s (1.6/2.0.1 `urn:X.req`, 2.1 `urn:XRequest`). */
function requestActions(schemas: readonly { $id: string }[]): string[] {
  const actions: string[] = [];
  for (const { $id } of schemas) {
    const match = /^urn:(\w+?)(?:\.req|Request)$/.exec($id);
    if (match?.[1] !== undefined) actions.push(match[1]);
  }
  return actions;
}

describe('classifyChargerCall, OCPP 1.6', () => {
  it('StartTransaction is a kept transaction start whose primary id is not known yet', () => {
    const info = classify('1.6', 'StartTransaction', { connectorId: 1, idTag: '04A2B3C4D5E6F7', meterStart: 12345, timestamp: TS });
    expect(info).toEqual({ priority: 'transaction', role: 'start', txId: null, carriesIdTag: true });
  });

  it('StopTransaction is a kept stop carrying the primary’s transactionId as a string', () => {
    const info = classify('1.6', 'StopTransaction', { transactionId: 4711, idTag: '04A2B3C4D5E6F7', meterStop: 23456, timestamp: TS, reason: 'Local' });
    expect(info).toEqual({ priority: 'transaction', role: 'stop', txId: '4711', carriesIdTag: true });
  });

  it('StopTransaction without idTag (optional, §6.49) carries none', () => {
    const info = classify('1.6', 'StopTransaction', { transactionId: 4711, meterStop: 23456, timestamp: TS });
    expect(info).toEqual({ priority: 'transaction', role: 'stop', txId: '4711', carriesIdTag: false });
  });

  it('StopTransaction of a charger that never got an id (-1) keeps that id', () => {
    expect(classify('1.6', 'StopTransaction', { transactionId: -1, meterStop: 0, timestamp: TS }).txId).toBe('-1');
  });

  it('a non-integer transactionId is no id at all', () => {
    expect(classify('1.6', 'StopTransaction', { transactionId: '4711', meterStop: 0, timestamp: TS }).txId).toBeNull();
    expect(classify('1.6', 'MeterValues', { connectorId: 1, transactionId: 47.5, meterValue: [] }).txId).toBeNull();
  });

  it('MeterValues of a transaction is a droppable update with its id', () => {
    const info = classify('1.6', 'MeterValues', {
      connectorId: 1,
      transactionId: 4711,
      meterValue: [{ timestamp: TS, sampledValue: [{ value: '15000', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
    });
    expect(info).toEqual({ priority: 'droppable', role: 'update', txId: '4711', carriesIdTag: false });
  });

  it('MeterValues without transactionId belongs to no transaction', () => {
    const info = classify('1.6', 'MeterValues', {
      connectorId: 0,
      meterValue: [{ timestamp: TS, sampledValue: [{ value: '230.1', measurand: 'Voltage', unit: 'V' }] }],
    });
    expect(info).toEqual(NOT_TRANSACTIONAL);
  });

  it('Authorize carries an idTag but is no transaction message', () => {
    expect(classify('1.6', 'Authorize', { idTag: '04A2B3C4D5E6F7' })).toEqual({ ...NOT_TRANSACTIONAL, carriesIdTag: true });
  });

  it.each([
    ['Heartbeat', {}],
    ['StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' }],
    ['BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'Volt' }],
    ['DataTransfer', { vendorId: 'Acme', data: '{"idTag":"X"}' }],
    // 2.x actions on a 1.6 link mean nothing.
    ['TransactionEvent', { eventType: 'Started', transactionInfo: { transactionId: TX_2X } }],
  ])('%s is droppable and no transaction message', (action, payload) => {
    expect(classify('1.6', action, payload)).toEqual(NOT_TRANSACTIONAL);
  });
});

describe.each<OcppVersion>(['2.0.1', '2.1'])('classifyChargerCall, OCPP %s', (version) => {
  const base = { timestamp: TS, seqNo: 0, transactionInfo: { transactionId: TX_2X } };

  it('TransactionEvent Started is a kept start with the charger’s transactionId', () => {
    const info = classify(version, 'TransactionEvent', { ...base, eventType: 'Started', triggerReason: 'CablePluggedIn' });
    expect(info).toEqual({ priority: 'transaction', role: 'start', txId: TX_2X, carriesIdTag: false });
  });

  it('TransactionEvent Ended is a kept stop', () => {
    const info = classify(version, 'TransactionEvent', {
      ...base,
      eventType: 'Ended',
      triggerReason: 'StopAuthorized',
      idToken: { idToken: '04A2B3C4D5E6F7', type: 'ISO14443' },
    });
    expect(info).toEqual({ priority: 'transaction', role: 'stop', txId: TX_2X, carriesIdTag: true });
  });

  it('TransactionEvent Updated is a droppable update', () => {
    const info = classify(version, 'TransactionEvent', { ...base, eventType: 'Updated', triggerReason: 'MeterValuePeriodic' });
    expect(info).toEqual({ priority: 'droppable', role: 'update', txId: TX_2X, carriesIdTag: false });
  });

  it('a TransactionEvent without a usable eventType is no transaction message', () => {
    expect(classify(version, 'TransactionEvent', { ...base, eventType: 'Paused', triggerReason: 'Trigger' })).toEqual(NOT_TRANSACTIONAL);
    expect(classify(version, 'TransactionEvent', { transactionInfo: { transactionId: TX_2X } })).toEqual(NOT_TRANSACTIONAL);
  });

  it('a TransactionEvent without transactionInfo has no id', () => {
    expect(classify(version, 'TransactionEvent', { eventType: 'Started', timestamp: TS }).txId).toBeNull();
    expect(classify(version, 'TransactionEvent', { eventType: 'Started', transactionInfo: { transactionId: 7 } }).txId).toBeNull();
  });

  it('only an idToken object with a string idToken counts as carrying one', () => {
    const event = { ...base, eventType: 'Updated', triggerReason: 'Authorized' };
    expect(classify(version, 'TransactionEvent', { ...event, idToken: { idToken: 'A', type: 'Central' } }).carriesIdTag).toBe(true);
    expect(classify(version, 'TransactionEvent', { ...event, idToken: 'A' }).carriesIdTag).toBe(false);
    expect(classify(version, 'TransactionEvent', { ...event, idToken: { type: 'Central' } }).carriesIdTag).toBe(false);
  });

  it('Authorize carries an idToken but is no transaction message', () => {
    expect(classify(version, 'Authorize', { idToken: { idToken: '04A2B3C4D5E6F7', type: 'ISO14443' } })).toEqual({
      ...NOT_TRANSACTIONAL,
      carriesIdTag: true,
    });
  });

  it.each([
    ['Heartbeat', {}],
    ['StatusNotification', { timestamp: TS, connectorStatus: 'Occupied', evseId: 1, connectorId: 1 }],
    ['MeterValues', { evseId: 1, meterValue: [{ timestamp: TS, sampledValue: [{ value: 230.1 }] }] }],
    // 1.6 actions on a 2.x link mean nothing.
    ['StartTransaction', { connectorId: 1, idTag: 'A', meterStart: 0, timestamp: TS }],
    ['StopTransaction', { transactionId: 1, meterStop: 0, timestamp: TS }],
  ])('%s is droppable and no transaction message', (action, payload) => {
    expect(classify(version, action, payload)).toEqual(NOT_TRANSACTIONAL);
  });
});

describe('REWRITE_RELEVANT_ACTIONS', () => {
  it('is exactly the actions that carry ids or tokens the mirror translates', () => {
    expect([...REWRITE_RELEVANT_ACTIONS].sort()).toEqual(['Authorize', 'MeterValues', 'StartTransaction', 'StopTransaction', 'TransactionEvent']);
  });

  // The promise the set makes: an action outside it may be forwarded without parsing, because classification
  // would have said nothing about it anyway. Checked over every request the official schemas define.
  it.each<[OcppVersion, readonly { $id: string }[]]>([
    ['1.6', schema16],
    ['2.0.1', schema201],
    ['2.1', schema21],
  ])('on %s, every other request classifies as droppable, no transaction, no id tag', (version, schemas) => {
    const others = requestActions(schemas).filter((action) => !REWRITE_RELEVANT_ACTIONS.has(action));
    expect(others.length).toBeGreaterThan(20);
    // A payload holding every id-ish field, so a stray rule for another action would show.
    const payload = {
      idTag: 'A',
      idToken: { idToken: 'A', type: 'Central' },
      transactionId: 4711,
      eventType: 'Started',
      transactionInfo: { transactionId: TX_2X },
    };
    for (const action of others) expect([action, classify(version, action, payload)]).toEqual([action, NOT_TRANSACTIONAL]);
  });
});

describe('isBootNotification', () => {
  it('matches BootNotification only, case-sensitively', () => {
    expect(isBootNotification('BootNotification')).toBe(true);
    expect(isBootNotification('bootnotification')).toBe(false);
    expect(isBootNotification('Heartbeat')).toBe(false);
  });
});

describe('primaryTransactionIdFromStartResult', () => {
  it('turns the integer transactionId of StartTransaction.conf into a string', () => {
    expect(primaryTransactionIdFromStartResult({ idTagInfo: { status: 'Accepted' }, transactionId: 4711 })).toBe('4711');
    expect(primaryTransactionIdFromStartResult({ idTagInfo: { status: 'Invalid' }, transactionId: 0 })).toBe('0');
  });

  it('gives nothing when there is no integer transactionId', () => {
    expect(primaryTransactionIdFromStartResult({ idTagInfo: { status: 'Accepted' } })).toBeUndefined();
    expect(primaryTransactionIdFromStartResult({ transactionId: '4711' })).toBeUndefined();
    expect(primaryTransactionIdFromStartResult({ transactionId: 47.11 })).toBeUndefined();
    expect(primaryTransactionIdFromStartResult({ transactionId: 2 ** 60 })).toBeUndefined();
    expect(primaryTransactionIdFromStartResult({ transactionId: null })).toBeUndefined();
  });
});

describe('id tag length limits', () => {
  it('follow the schemas: 1.6 CiString20, 2.0.1 string(36), 2.1 string(255)', () => {
    expect(idTagMaxLength('1.6')).toBe(20);
    expect(idTagMaxLength('2.0.1')).toBe(36);
    expect(idTagMaxLength('2.1')).toBe(255);
    expect(fitsIdTagLength('1.6', 'x'.repeat(20))).toBe(true);
    expect(fitsIdTagLength('1.6', 'x'.repeat(21))).toBe(false);
    expect(fitsIdTagLength('2.0.1', 'x'.repeat(36))).toBe(true);
    expect(fitsIdTagLength('2.0.1', 'x'.repeat(37))).toBe(false);
  });

  it('count code points, as JSON Schema maxLength does', () => {
    // 20 characters outside the BMP are 40 UTF-16 units.
    expect(fitsLength('🔌'.repeat(20), 20)).toBe(true);
    expect(fitsLength('🔌'.repeat(21), 20)).toBe(false);
    expect(fitsLength('x'.repeat(1_000_000), 20)).toBe(false);
  });
});

describe('needsClassification', () => {
  it.each([
    ['StartTransaction', '[2,"1","StartTransaction",{}]', true],
    ['StopTransaction', '[2,"1","StopTransaction",{}]', true],
    ['TransactionEvent', '[2,"1","TransactionEvent",{}]', true],
    ['MeterValues', '[2,"1","MeterValues",{"connectorId":1,"transactionId":5,"meterValue":[]}]', true],
    ['MeterValues', '[2,"1","MeterValues",{"connectorId":1,"meterValue":[]}]', false],
    ['Authorize', '[2,"1","Authorize",{"idTag":"A"}]', false],
    ['Heartbeat', '[2,"1","Heartbeat",{}]', false],
    ['StatusNotification', '[2,"1","StatusNotification",{"transactionId":1}]', false],
  ])('%s %s → %s', (action, text, expected) => {
    expect(needsClassification(action, text)).toBe(expected);
  });

  it('agrees with classifyChargerCall: whatever it skips classifies as non-transactional', () => {
    for (const [action, payload] of [
      ['MeterValues', { connectorId: 1, meterValue: [{ timestamp: '2026-01-01T00:00:00Z', sampledValue: [{ value: '1' }] }] }],
      ['Authorize', { idTag: 'A' }],
    ] as const) {
      const text = JSON.stringify([2, 'x', action, payload]);
      expect(needsClassification(action, text)).toBe(false);
      const info = classifyChargerCall('1.6', { type: 2, id: 'x', action, payload: { ...payload } });
      expect(info).toMatchObject({ priority: 'droppable', role: 'none', txId: null });
    }
  });
});

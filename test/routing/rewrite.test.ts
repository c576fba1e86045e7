import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createValidator } from 'ocpp-rpc';
import schema16 from 'ocpp-rpc/lib/schemas/ocpp1_6.json' with { type: 'json' };
import schema201 from 'ocpp-rpc/lib/schemas/ocpp2_0_1.json' with { type: 'json' };
import schema21 from 'ocpp-rpc/lib/schemas/ocpp2_1.json' with { type: 'json' };
import { call } from '../../src/ocpp/frame.js';
import type { OcppVersion } from '../../src/ocpp/error-codes.js';
import { decideSecondaryCall } from '../../src/routing/secondary-calls.js';
import { parsePendingIdToken, rewriteForSecondary } from '../../src/routing/rewrite.js';
import type { RewriteContext, RewriteResult } from '../../src/routing/rewrite.js';

// ocpp-rpc's validators (ajv 8 + ajv-formats over the official schemas): the same checks a strict peer makes.
const VALIDATORS = {
  '1.6': quietValidator('ocpp1.6', schema16),
  '2.0.1': quietValidator('ocpp2.0.1', schema201),
  '2.1': quietValidator('ocpp2.1', schema21),
} as const;

function quietValidator(...args: Parameters<typeof createValidator>): ReturnType<typeof createValidator> {
  const validator = createValidator(...args);
  // The shipped 2.1 schemas put `additionalProperties` on string enums, which ajv's strictTypes logs once per
  // schema; it changes no verdict.
  validator._ajv.opts.strictTypes = false;
  return validator;
}

function expectValidRequest(version: OcppVersion, action: string, payload: Record<string, unknown>): void {
  const id = version === '2.1' ? `urn:${action}Request` : `urn:${action}.req`;
  // Throws an RPCError naming the failed keyword, so a failure shows what the rewrite broke.
  expect(() => VALIDATORS[version].validate(id, payload)).not.toThrow();
}

/** Freezes a JSON value all the way down: any write to it then throws (ES modules are strict mode). */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Rewrites a frozen copy of `payload`, checks the input is unchanged and any output schema-valid. */
function rewrite(version: OcppVersion, action: string, payload: Record<string, unknown>, ctx: RewriteContext): RewriteResult {
  const input = deepFreeze(structuredClone(payload));
  const result = rewriteForSecondary(version, call('m-1', action, input), ctx);
  expect(input).toEqual(payload);
  if (result.changed) expectValidRequest(version, action, result.payload);
  return result;
}

function changedPayload(result: RewriteResult): Record<string, unknown> {
  if (!result.changed) throw new Error('expected the payload to be rewritten');
  return result.payload;
}

const TS = '2025-03-14T09:26:53.000Z';

// --- OCPP 1.6 fixtures (shapes from ocpp1_6.json) ------------------------------------------------------------

const CARD = '04A2B3C4D5E6F7';
const MAPPED = 'SPLIT-CP42';
const REMOTE = 'APP-USER-42';

const AUTHORIZE_16 = { idTag: CARD };
const START_16 = { connectorId: 1, idTag: CARD, meterStart: 12345, timestamp: TS, reservationId: 3 };
const STOP_16 = {
  transactionId: 4711,
  idTag: CARD,
  meterStop: 23456,
  timestamp: TS,
  reason: 'Local',
  transactionData: [
    {
      timestamp: TS,
      sampledValue: [{ value: '23456', context: 'Transaction.End', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
    },
  ],
};
const STOP_16_NO_TAG = { transactionId: 4711, meterStop: 23456, timestamp: TS, reason: 'EVDisconnected' };
const METER_VALUES_16 = {
  connectorId: 1,
  transactionId: 4711,
  meterValue: [
    {
      timestamp: TS,
      sampledValue: [
        { value: '15000', context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
        { value: '<signed data>', context: 'Sample.Periodic', format: 'SignedData', measurand: 'Energy.Active.Import.Register' },
        { value: '7200', measurand: 'Power.Active.Import', unit: 'W', phase: 'L1' },
      ],
    },
  ],
};
const METER_VALUES_16_NO_TX = {
  connectorId: 0,
  meterValue: [{ timestamp: TS, sampledValue: [{ value: '230.1', measurand: 'Voltage', unit: 'V', phase: 'L1-N' }] }],
};
const HEARTBEAT = {};
const STATUS_16 = { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: TS };
const DATA_TRANSFER_16 = { vendorId: 'Acme', messageId: 'Tag', data: `{"idTag":"${CARD}","transactionId":4711}` };

const FIXTURES_16: [string, Record<string, unknown>][] = [
  ['Authorize', AUTHORIZE_16],
  ['StartTransaction', START_16],
  ['StopTransaction', STOP_16],
  ['StopTransaction', STOP_16_NO_TAG],
  ['MeterValues', METER_VALUES_16],
  ['MeterValues', METER_VALUES_16_NO_TX],
  ['Heartbeat', HEARTBEAT],
  ['StatusNotification', STATUS_16],
  ['DataTransfer', DATA_TRANSFER_16],
];

// --- OCPP 2.0.1 / 2.1 fixtures (shapes valid in both ocpp2_0_1.json and ocpp2_1.json) --------------------------

const TX = 'b6f1d0a4-3c2e-4e57-9a11-5f0c7d2e8a90';
const CARD_TOKEN = { idToken: CARD, type: 'ISO14443' };
const REMOTE_TOKEN = { idToken: REMOTE, type: 'Central' };
const METER_VALUE_2X = [
  { timestamp: TS, sampledValue: [{ value: 1500.5, context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }] },
];

const AUTHORIZE_2X = { idToken: CARD_TOKEN };
const STARTED_PLUG_FIRST = {
  eventType: 'Started',
  timestamp: TS,
  triggerReason: 'CablePluggedIn',
  seqNo: 0,
  transactionInfo: { transactionId: TX, chargingState: 'EVConnected' },
  evse: { id: 1, connectorId: 1 },
};
const STARTED_AUTHORIZED = {
  eventType: 'Started',
  timestamp: TS,
  triggerReason: 'Authorized',
  seqNo: 0,
  transactionInfo: { transactionId: TX, chargingState: 'Charging' },
  evse: { id: 1, connectorId: 1 },
  idToken: CARD_TOKEN,
  meterValue: METER_VALUE_2X,
};
const UPDATED_PERIODIC = {
  eventType: 'Updated',
  timestamp: TS,
  triggerReason: 'MeterValuePeriodic',
  seqNo: 1,
  transactionInfo: { transactionId: TX, chargingState: 'Charging' },
  meterValue: METER_VALUE_2X,
};
const UPDATED_AUTHORIZED = {
  eventType: 'Updated',
  timestamp: TS,
  triggerReason: 'Authorized',
  seqNo: 1,
  transactionInfo: { transactionId: TX, chargingState: 'Charging' },
  idToken: CARD_TOKEN,
};
const ENDED_WITH_TOKEN = {
  eventType: 'Ended',
  timestamp: TS,
  triggerReason: 'StopAuthorized',
  seqNo: 5,
  transactionInfo: { transactionId: TX, chargingState: 'EVConnected', stoppedReason: 'Local' },
  idToken: CARD_TOKEN,
  meterValue: METER_VALUE_2X,
};
const ENDED_NO_TOKEN = {
  eventType: 'Ended',
  timestamp: TS,
  triggerReason: 'EVCommunicationLost',
  seqNo: 5,
  transactionInfo: { transactionId: TX, stoppedReason: 'EVDisconnected' },
};
const STATUS_2X = { timestamp: TS, connectorStatus: 'Occupied', evseId: 1, connectorId: 1 };
const METER_VALUES_2X = { evseId: 1, meterValue: METER_VALUE_2X };

const FIXTURES_2X: [string, Record<string, unknown>][] = [
  ['Authorize', AUTHORIZE_2X],
  ['TransactionEvent', STARTED_PLUG_FIRST],
  ['TransactionEvent', STARTED_AUTHORIZED],
  ['TransactionEvent', UPDATED_PERIODIC],
  ['TransactionEvent', UPDATED_AUTHORIZED],
  ['TransactionEvent', ENDED_WITH_TOKEN],
  ['TransactionEvent', ENDED_NO_TOKEN],
  ['Heartbeat', HEARTBEAT],
  ['StatusNotification', STATUS_2X],
  ['MeterValues', METER_VALUES_2X],
];

/** A 2.x remote start as the store keeps it, produced by the real decision so the two cannot drift. */
function pendingFromRequestStart(version: OcppVersion, idToken: Record<string, unknown>, remoteStartId: number): string {
  const decision = decideSecondaryCall(version, call('s-1', 'RequestStartTransaction', { idToken, remoteStartId, evseId: 1 }));
  if (decision.kind !== 'accept-remote-start') throw new Error(`remote start refused: ${decision.kind}`);
  return decision.pendingIdTag;
}

describe('fixtures', () => {
  it.each(FIXTURES_16)('1.6 %s is schema-valid', (action, payload) => expectValidRequest('1.6', action, payload));
  it.each<OcppVersion>(['2.0.1', '2.1'])('%s fixtures are schema-valid', (version) => {
    for (const [action, payload] of FIXTURES_2X) expectValidRequest(version, action, payload);
  });
});

describe('nothing to do', () => {
  it.each<OcppVersion>(['1.6', '2.0.1', '2.1'])('%s: an empty context leaves every message alone', (version) => {
    for (const [action, payload] of version === '1.6' ? FIXTURES_16 : FIXTURES_2X) {
      expect(rewrite(version, action, payload, {})).toEqual({ changed: false });
    }
  });

  it('actions outside REWRITE_RELEVANT_ACTIONS are never changed, whatever the context', () => {
    const ctx = { idTagOverride: MAPPED, remoteStartIdTag: REMOTE, secondaryTxId: '90210' };
    for (const [action, payload] of [['Heartbeat', HEARTBEAT], ['StatusNotification', STATUS_16], ['DataTransfer', DATA_TRANSFER_16]] as const) {
      expect(rewrite('1.6', action, payload, ctx)).toEqual({ changed: false });
    }
    const pending = pendingFromRequestStart('2.0.1', REMOTE_TOKEN, 1001);
    for (const [action, payload] of [['StatusNotification', STATUS_2X], ['MeterValues', METER_VALUES_2X]] as const) {
      expect(rewrite('2.0.1', action, payload, { idTagOverride: MAPPED, remoteStartIdTag: pending })).toEqual({ changed: false });
    }
  });

  it('a value equal to what the charger sent keeps the original bytes (no change)', () => {
    expect(rewrite('1.6', 'Authorize', AUTHORIZE_16, { idTagOverride: CARD })).toEqual({ changed: false });
    expect(rewrite('1.6', 'MeterValues', METER_VALUES_16, { secondaryTxId: '4711' })).toEqual({ changed: false });
    expect(rewrite('2.0.1', 'Authorize', AUTHORIZE_2X, { idTagOverride: CARD })).toEqual({ changed: false });
  });
});

describe('1.6 charger_map id_tag', () => {
  it('replaces Authorize.idTag', () => {
    expect(changedPayload(rewrite('1.6', 'Authorize', AUTHORIZE_16, { idTagOverride: MAPPED }))).toEqual({ idTag: MAPPED });
  });

  it('replaces StartTransaction.idTag and nothing else', () => {
    expect(changedPayload(rewrite('1.6', 'StartTransaction', START_16, { idTagOverride: MAPPED }))).toEqual({ ...START_16, idTag: MAPPED });
  });

  it('replaces StopTransaction.idTag when present', () => {
    expect(changedPayload(rewrite('1.6', 'StopTransaction', STOP_16, { idTagOverride: MAPPED }))).toEqual({ ...STOP_16, idTag: MAPPED });
  });

  it('does not add an idTag to a StopTransaction that has none', () => {
    expect(rewrite('1.6', 'StopTransaction', STOP_16_NO_TAG, { idTagOverride: MAPPED })).toEqual({ changed: false });
  });

  it('never adds an idTag to MeterValues', () => {
    expect(rewrite('1.6', 'MeterValues', METER_VALUES_16, { idTagOverride: MAPPED })).toEqual({ changed: false });
  });

  it('is not written when longer than CiString20 (the secondary would refuse the message)', () => {
    expect(rewrite('1.6', 'Authorize', AUTHORIZE_16, { idTagOverride: 'x'.repeat(21) })).toEqual({ changed: false });
    expect(rewrite('1.6', 'StartTransaction', START_16, { idTagOverride: 'x'.repeat(21) })).toEqual({ changed: false });
  });
});

describe('1.6 remote-start idTag', () => {
  it('goes into StartTransaction', () => {
    expect(changedPayload(rewrite('1.6', 'StartTransaction', START_16, { remoteStartIdTag: REMOTE }))).toEqual({ ...START_16, idTag: REMOTE });
  });

  it('wins over charger_map id_tag on start and stop', () => {
    const ctx = { idTagOverride: MAPPED, remoteStartIdTag: REMOTE };
    expect(changedPayload(rewrite('1.6', 'StartTransaction', START_16, ctx)).idTag).toBe(REMOTE);
    expect(changedPayload(rewrite('1.6', 'StopTransaction', STOP_16, ctx)).idTag).toBe(REMOTE);
  });

  it('is added to a StopTransaction that has no idTag (the stop matches the start the secondary saw)', () => {
    expect(changedPayload(rewrite('1.6', 'StopTransaction', STOP_16_NO_TAG, { remoteStartIdTag: REMOTE }))).toEqual({
      ...STOP_16_NO_TAG,
      idTag: REMOTE,
    });
  });

  it('does not apply to Authorize, which belongs to no transaction', () => {
    expect(rewrite('1.6', 'Authorize', AUTHORIZE_16, { remoteStartIdTag: REMOTE })).toEqual({ changed: false });
    expect(changedPayload(rewrite('1.6', 'Authorize', AUTHORIZE_16, { remoteStartIdTag: REMOTE, idTagOverride: MAPPED })).idTag).toBe(MAPPED);
  });

  it('a 2.x idToken stored earlier is not an idTag: charger_map applies instead', () => {
    const pending = pendingFromRequestStart('2.0.1', REMOTE_TOKEN, 1001);
    expect(changedPayload(rewrite('1.6', 'StartTransaction', START_16, { remoteStartIdTag: pending, idTagOverride: MAPPED })).idTag).toBe(MAPPED);
  });
});

describe('1.6 transaction ids', () => {
  it('StopTransaction gets the secondary’s id, as an integer', () => {
    const payload = changedPayload(rewrite('1.6', 'StopTransaction', STOP_16, { secondaryTxId: '90210' }));
    expect(payload).toEqual({ ...STOP_16, transactionId: 90210 });
  });

  it('MeterValues with a transactionId gets the secondary’s id', () => {
    expect(changedPayload(rewrite('1.6', 'MeterValues', METER_VALUES_16, { secondaryTxId: '90210' }))).toEqual({
      ...METER_VALUES_16,
      transactionId: 90210,
    });
  });

  it('MeterValues without transactionId stays without one', () => {
    expect(rewrite('1.6', 'MeterValues', METER_VALUES_16_NO_TX, { secondaryTxId: '90210', idTagOverride: MAPPED })).toEqual({ changed: false });
  });

  it('a negative id (-1, "never got one") is written as an integer too', () => {
    expect(changedPayload(rewrite('1.6', 'StopTransaction', STOP_16, { secondaryTxId: '-1' })).transactionId).toBe(-1);
  });

  it('a non-numeric or out-of-range id is not written (the schema requires an integer)', () => {
    expect(rewrite('1.6', 'StopTransaction', STOP_16, { secondaryTxId: 'abc' })).toEqual({ changed: false });
    expect(rewrite('1.6', 'StopTransaction', STOP_16, { secondaryTxId: '12.5' })).toEqual({ changed: false });
    expect(rewrite('1.6', 'StopTransaction', STOP_16, { secondaryTxId: '99999999999999999999' })).toEqual({ changed: false });
  });

  it('StartTransaction and Authorize have no transactionId to translate', () => {
    expect(rewrite('1.6', 'StartTransaction', START_16, { secondaryTxId: '90210' })).toEqual({ changed: false });
    expect(rewrite('1.6', 'Authorize', AUTHORIZE_16, { secondaryTxId: '90210' })).toEqual({ changed: false });
  });

  it('id and tag are rewritten together on a stop', () => {
    const payload = changedPayload(rewrite('1.6', 'StopTransaction', STOP_16_NO_TAG, { secondaryTxId: '90210', remoteStartIdTag: REMOTE, idTagOverride: MAPPED }));
    expect(payload).toEqual({ ...STOP_16_NO_TAG, transactionId: 90210, idTag: REMOTE });
  });

  it('the signed meter values and other fields pass unchanged', () => {
    const payload = changedPayload(rewrite('1.6', 'MeterValues', METER_VALUES_16, { secondaryTxId: '90210' }));
    expect(payload.meterValue).toEqual(METER_VALUES_16.meterValue);
  });
});

describe.each<OcppVersion>(['2.0.1', '2.1'])('%s', (version) => {
  const pending = (): string => pendingFromRequestStart(version, REMOTE_TOKEN, 1001);

  describe('charger_map id_tag', () => {
    it('replaces Authorize.idToken.idToken and keeps its type', () => {
      expect(changedPayload(rewrite(version, 'Authorize', AUTHORIZE_2X, { idTagOverride: MAPPED }))).toEqual({
        idToken: { idToken: MAPPED, type: 'ISO14443' },
      });
    });

    it('replaces TransactionEvent.idToken.idToken wherever present (Started, Updated, Ended)', () => {
      for (const event of [STARTED_AUTHORIZED, UPDATED_AUTHORIZED, ENDED_WITH_TOKEN]) {
        expect(changedPayload(rewrite(version, 'TransactionEvent', event, { idTagOverride: MAPPED }))).toEqual({
          ...event,
          idToken: { idToken: MAPPED, type: 'ISO14443' },
        });
      }
    });

    it('adds no idToken to an event without one', () => {
      for (const event of [STARTED_PLUG_FIRST, UPDATED_PERIODIC, ENDED_NO_TOKEN]) {
        expect(rewrite(version, 'TransactionEvent', event, { idTagOverride: MAPPED })).toEqual({ changed: false });
      }
    });

    it('is not written when longer than the version allows', () => {
      const tooLong = 'x'.repeat(version === '2.1' ? 256 : 37);
      expect(rewrite(version, 'Authorize', AUTHORIZE_2X, { idTagOverride: tooLong })).toEqual({ changed: false });
    });

    it('ignores secondaryTxId: 2.x transaction ids come from the charger', () => {
      expect(rewrite(version, 'TransactionEvent', ENDED_WITH_TOKEN, { secondaryTxId: '90210' })).toEqual({ changed: false });
    });
  });

  describe('remote-start idToken', () => {
    it('goes into a Started event without idToken, with transactionInfo.remoteStartId', () => {
      expect(changedPayload(rewrite(version, 'TransactionEvent', STARTED_PLUG_FIRST, { remoteStartIdTag: pending() }))).toEqual({
        ...STARTED_PLUG_FIRST,
        idToken: REMOTE_TOKEN,
        transactionInfo: { ...STARTED_PLUG_FIRST.transactionInfo, remoteStartId: 1001 },
      });
    });

    it('replaces the idToken of a Started event and wins over charger_map id_tag', () => {
      expect(changedPayload(rewrite(version, 'TransactionEvent', STARTED_AUTHORIZED, { remoteStartIdTag: pending(), idTagOverride: MAPPED }))).toEqual({
        ...STARTED_AUTHORIZED,
        idToken: REMOTE_TOKEN,
        transactionInfo: { ...STARTED_AUTHORIZED.transactionInfo, remoteStartId: 1001 },
      });
    });

    it('goes into the Ended event, with or without idToken, without remoteStartId', () => {
      for (const event of [ENDED_WITH_TOKEN, ENDED_NO_TOKEN]) {
        expect(changedPayload(rewrite(version, 'TransactionEvent', event, { remoteStartIdTag: pending(), idTagOverride: MAPPED }))).toEqual({
          ...event,
          idToken: REMOTE_TOKEN,
        });
      }
    });

    it('replaces an Updated event’s idToken but adds none to one without', () => {
      expect(changedPayload(rewrite(version, 'TransactionEvent', UPDATED_AUTHORIZED, { remoteStartIdTag: pending(), idTagOverride: MAPPED }))).toEqual({
        ...UPDATED_AUTHORIZED,
        idToken: REMOTE_TOKEN,
      });
      expect(rewrite(version, 'TransactionEvent', UPDATED_PERIODIC, { remoteStartIdTag: pending() })).toEqual({ changed: false });
    });

    it('carries the whole idToken object (type, additionalInfo) the secondary sent', () => {
      const rich = { idToken: REMOTE, type: 'eMAID', additionalInfo: [{ additionalIdToken: 'contract-7', type: 'ContractId' }] };
      const payload = changedPayload(rewrite(version, 'TransactionEvent', STARTED_PLUG_FIRST, { remoteStartIdTag: pendingFromRequestStart(version, rich, 9) }));
      expect(payload.idToken).toEqual(rich);
    });

    it('does not apply to Authorize', () => {
      expect(rewrite(version, 'Authorize', AUTHORIZE_2X, { remoteStartIdTag: pending() })).toEqual({ changed: false });
    });

    it('a 1.6 idTag stored earlier is not an idToken: charger_map applies instead', () => {
      expect(changedPayload(rewrite(version, 'TransactionEvent', STARTED_AUTHORIZED, { remoteStartIdTag: REMOTE, idTagOverride: MAPPED }))).toEqual({
        ...STARTED_AUTHORIZED,
        idToken: { idToken: MAPPED, type: 'ISO14443' },
      });
      expect(rewrite(version, 'TransactionEvent', STARTED_PLUG_FIRST, { remoteStartIdTag: '12345' })).toEqual({ changed: false });
    });
  });
});

describe('a remote start stored on one 2.x version and used on another', () => {
  it('is dropped when its idToken is not valid there (2.1 free type on a 2.0.1 link)', () => {
    const stored = pendingFromRequestStart('2.1', { idToken: REMOTE, type: 'VendorCard' }, 5);
    expect(parsePendingIdToken('2.1', stored)).toEqual({ idToken: { idToken: REMOTE, type: 'VendorCard' }, remoteStartId: 5 });
    expect(parsePendingIdToken('2.0.1', stored)).toBeUndefined();
    expect(rewrite('2.0.1', 'TransactionEvent', STARTED_PLUG_FIRST, { remoteStartIdTag: stored })).toEqual({ changed: false });
  });

  it('parsePendingIdToken refuses anything but {idToken, remoteStartId}', () => {
    for (const stored of [undefined, '', 'APP-USER-42', '42', 'null', '[]', '{"idToken":{"idToken":"A","type":"Central"}}', '{"idToken":"A","remoteStartId":1}']) {
      expect(parsePendingIdToken('2.0.1', stored)).toBeUndefined();
    }
  });
});

describe('properties', () => {
  const idTag = fc.oneof(fc.constant(MAPPED), fc.string({ maxLength: 40 }), fc.string({ minLength: 18, maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 30 }));
  const txId = fc.oneof(fc.integer({ min: -1, max: 2 ** 31 - 1 }).map(String), fc.string({ maxLength: 12 }), fc.constant('1e3'));

  it('1.6: any context leaves the input intact and yields a schema-valid payload', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...FIXTURES_16),
        fc.record({ idTagOverride: idTag, remoteStartIdTag: idTag, secondaryTxId: txId }, { requiredKeys: [] }),
        ([action, payload], ctx) => {
          rewrite('1.6', action, payload, ctx);
        },
      ),
    );
  });

  it.each<OcppVersion>(['2.0.1', '2.1'])('%s: any context leaves the input intact and yields a schema-valid payload', (version) => {
    const remote = fc.oneof(
      idTag,
      fc
        .record({ idToken: fc.string({ maxLength: 40 }), type: fc.constantFrom('Central', 'ISO14443', 'eMAID', 'VendorCard') })
        .chain((token) => fc.integer({ min: -5, max: 10_000 }).map((remoteStartId) => JSON.stringify({ idToken: token, remoteStartId }))),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...FIXTURES_2X),
        fc.record({ idTagOverride: idTag, remoteStartIdTag: remote, secondaryTxId: txId }, { requiredKeys: [] }),
        ([action, payload], ctx) => {
          rewrite(version, action, payload, ctx);
        },
      ),
    );
  });
});

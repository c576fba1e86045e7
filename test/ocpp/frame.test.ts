import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  call,
  callError,
  callResult,
  callResultError,
  isPlainObject,
  isValidMessageId,
  MAX_ERROR_DESCRIPTION_LENGTH,
  MessageType,
  parseFrame,
  send,
  serializeFrame,
  truncateDescription,
} from '../../src/ocpp/frame.js';
import type { Frame, FrameError, FrameErrorReason, ParseResult } from '../../src/ocpp/frame.js';

const NUM_RUNS = 2000;

function frameOf(result: ParseResult): Frame {
  if (!result.ok) throw new Error(`expected a frame, got ${result.error.reason}`);
  return result.frame;
}

function errorOf(result: ParseResult): FrameError {
  if (result.ok) throw new Error(`expected an error, got a frame of type ${result.frame.type}`);
  return result.error;
}

describe('parseFrame: examples from the specifications', () => {
  it('reads an OCPP 1.6 BootNotification CALL', () => {
    const text =
      '[2,"19223201","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"SingleSocketCharger"}]';
    expect(frameOf(parseFrame(text))).toEqual({
      type: MessageType.Call,
      id: '19223201',
      action: 'BootNotification',
      payload: { chargePointVendor: 'VendorX', chargePointModel: 'SingleSocketCharger' },
    });
  });

  it('reads an OCPP 1.6 BootNotification CALLRESULT', () => {
    const text = '[3,"19223201",{"status":"Accepted","currentTime":"2013-02-01T20:53:32.486Z","interval":300}]';
    expect(frameOf(parseFrame(text))).toEqual({
      type: MessageType.CallResult,
      id: '19223201',
      payload: { status: 'Accepted', currentTime: '2013-02-01T20:53:32.486Z', interval: 300 },
    });
  });

  it('reads an OCPP 2.0.1 BootNotification CALL with nested objects and whitespace', () => {
    const text = `[2, "19223201", "BootNotification", {
      "reason": "PowerUp",
      "chargingStation": { "model": "SingleSocketCharger", "vendorName": "VendorX" }
    }]`;
    expect(frameOf(parseFrame(text))).toEqual({
      type: MessageType.Call,
      id: '19223201',
      action: 'BootNotification',
      payload: { reason: 'PowerUp', chargingStation: { model: 'SingleSocketCharger', vendorName: 'VendorX' } },
    });
  });

  it('reads a CALLERROR with empty details and one with details', () => {
    expect(frameOf(parseFrame('[4,"162376037","NotSupported","SetDisplayMessageRequest not implemented",{}]'))).toEqual(
      {
        type: MessageType.CallError,
        id: '162376037',
        errorCode: 'NotSupported',
        errorDescription: 'SetDisplayMessageRequest not implemented',
        errorDetails: {},
      },
    );
    expect(
      frameOf(parseFrame('[4,"abc","FormationViolation","Payload is not valid",{"path":"$.idTag","got":42}]')),
    ).toEqual({
      type: MessageType.CallError,
      id: 'abc',
      errorCode: 'FormationViolation',
      errorDescription: 'Payload is not valid',
      errorDetails: { path: '$.idTag', got: 42 },
    });
  });

  it('reads OCPP 2.1 CALLRESULTERROR (5) and SEND (6)', () => {
    expect(frameOf(parseFrame('[5,"r1","FormatViolation","bad result",{}]'))).toEqual({
      type: MessageType.CallResultError,
      id: 'r1',
      errorCode: 'FormatViolation',
      errorDescription: 'bad result',
      errorDetails: {},
    });
    expect(
      frameOf(parseFrame('[6,"s1","NotifyPeriodicEventStream",{"id":1,"pending":0,"basetime":"2024-01-01T00:00:00Z","data":[]}]')),
    ).toEqual({
      type: MessageType.Send,
      id: 's1',
      action: 'NotifyPeriodicEventStream',
      payload: { id: 1, pending: 0, basetime: '2024-01-01T00:00:00Z', data: [] },
    });
  });

  it('accepts an empty payload, which OCPP writes as {}', () => {
    expect(frameOf(parseFrame('[2,"1","Heartbeat",{}]'))).toEqual({
      type: MessageType.Call,
      id: '1',
      action: 'Heartbeat',
      payload: {},
    });
  });

  it('reads a Buffer the same as the string it encodes', () => {
    const text = '[2,"ü€😀-id","Authorize",{"idTag":"ÄÖÜ"}]';
    expect(parseFrame(Buffer.from(text, 'utf8'))).toEqual(parseFrame(text));
    expect(frameOf(parseFrame(Buffer.from(text, 'utf8')))).toMatchObject({ id: 'ü€😀-id', payload: { idTag: 'ÄÖÜ' } });
  });

  it('decodes escapes in the id and action', () => {
    expect(frameOf(parseFrame('[2,"a\\"b\\u00e9","Boot\\u004eotification",{}]'))).toMatchObject({
      id: 'a"bé',
      action: 'BootNotification',
    });
  });

  it('accepts an integer type written as 2.0 (JSON numbers have no integer type)', () => {
    expect(frameOf(parseFrame('[2.0,"a","B",{}]')).type).toBe(MessageType.Call);
  });
});

describe('parseFrame: every reason', () => {
  const id37 = 'x'.repeat(37);
  const cases: [FrameErrorReason, string][] = [
    ['not-json', ''],
    ['not-json', '[2,"a","B",{}'],
    ['not-json', '[2,"a","B",{}]x'],
    ['not-json', "[2,'a','B',{}]"],
    ['not-json', '\uFEFF[2,"a","B",{}]'],
    ['not-array', '{}'],
    ['not-array', '"[2,\\"a\\",\\"B\\",{}]"'],
    ['not-array', '2'],
    ['not-array', 'null'],
    ['bad-message-type', '[]'],
    ['bad-message-type', '["2","a","B",{}]'],
    ['bad-message-type', '[2.5,"a","B",{}]'],
    ['bad-message-type', '[null,"a","B",{}]'],
    ['bad-message-type', '[true,"a","B",{}]'],
    ['unknown-message-type', '[1,"a","B",{}]'],
    ['unknown-message-type', '[7,"a","B",{}]'],
    ['unknown-message-type', '[0]'],
    ['unknown-message-type', '[-2,"a","B",{}]'],
    ['unknown-message-type', '[1e300,"a","B",{}]'],
    ['bad-message-id', '[2]'],
    ['bad-message-id', '[2,1,"B",{}]'],
    ['bad-message-id', '[2,null,"B",{}]'],
    ['bad-message-id', '[2,"","B",{}]'],
    ['bad-message-id', `[2,"${id37}","B",{}]`],
    ['bad-length', '[2,"a","B"]'],
    ['bad-length', '[2,"a","B",{},{}]'],
    ['bad-length', '[3,"a"]'],
    ['bad-length', '[3,"a",{},{}]'],
    ['bad-length', '[4,"a","C","d"]'],
    ['bad-length', '[5,"a","C","d",{},{}]'],
    ['bad-length', '[6,"a","B"]'],
    ['bad-action', '[2,"a","",{}]'],
    ['bad-action', '[2,"a",1,{}]'],
    ['bad-action', '[6,"a",null,{}]'],
    ['bad-payload', '[2,"a","B",[]]'],
    ['bad-payload', '[2,"a","B",null]'],
    ['bad-payload', '[2,"a","B","{}"]'],
    ['bad-payload', '[3,"a",[]]'],
    ['bad-payload', '[6,"a","B",1]'],
    ['bad-payload', '[4,"a","C","d",null]'],
    ['bad-payload', '[5,"a","C","d",[]]'],
    ['bad-error-code', '[4,"a",1,"d",{}]'],
    ['bad-error-code', '[5,"a",null,"d",{}]'],
    ['bad-error-description', '[4,"a","C",1,{}]'],
    ['bad-error-description', '[5,"a","C",null,{}]'],
  ];

  it.each(cases)('%s: %s', (reason, text) => {
    expect(errorOf(parseFrame(text)).reason).toBe(reason);
    expect(errorOf(parseFrame(Buffer.from(text, 'utf8'))).reason).toBe(reason);
  });

  it('has a fixed message per reason that never echoes the frame', () => {
    for (const [, text] of cases) {
      const secretText = text.replace(/"a"/g, '"SECRET"');
      const error = errorOf(parseFrame(secretText));
      expect(error.message.length).toBeGreaterThan(0);
      expect(error.message).not.toContain('SECRET');
    }
  });
});

describe('parseFrame: the order of checks (first failure wins)', () => {
  it.each([
    ['not an array beats everything', '{"0":"x"}', 'not-array'],
    ['bad type beats bad id', '["x",1]', 'bad-message-type'],
    ['unknown type beats bad id and length', '[9,1]', 'unknown-message-type'],
    ['bad id beats wrong length', '[2,"",{}]', 'bad-message-id'],
    ['too long id beats wrong length', `[3,"${'y'.repeat(37)}"]`, 'bad-message-id'],
    ['wrong length beats bad action', '[2,"a",1]', 'bad-length'],
    ['wrong length beats bad payload', '[3,"a",null,null]', 'bad-length'],
    ['bad action beats bad payload', '[2,"a","",null]', 'bad-action'],
    ['bad details beat bad code and description', '[4,"a",1,2,null]', 'bad-payload'],
    ['bad code beats bad description', '[4,"a",1,2,{}]', 'bad-error-code'],
  ] as const)('%s', (_name, text, reason) => {
    expect(errorOf(parseFrame(text)).reason).toBe(reason);
  });
});

describe('parseFrame: what an error carries', () => {
  it('carries the id of an unknown message type, for MessageTypeNotSupported on 2.0.1', () => {
    expect(errorOf(parseFrame('[7,"abc",{}]'))).toMatchObject({
      reason: 'unknown-message-type',
      messageId: 'abc',
      messageType: 7,
    });
  });

  it('carries the id and type of a frame that fails later checks', () => {
    expect(errorOf(parseFrame('[2,"abc","",{}]'))).toMatchObject({ messageId: 'abc', messageType: 2 });
    expect(errorOf(parseFrame('[4,"e1","C",1,{}]'))).toMatchObject({ messageId: 'e1', messageType: 4 });
    expect(errorOf(parseFrame('[2.5,"abc"]'))).toMatchObject({ messageId: 'abc', messageType: undefined });
  });

  it('leaves the id undefined when it cannot be read (the caller answers with "-1")', () => {
    expect(errorOf(parseFrame('not json'))).toMatchObject({ messageId: undefined, messageType: undefined });
    expect(errorOf(parseFrame('{"id":"a"}'))).toMatchObject({ messageId: undefined, messageType: undefined });
    expect(errorOf(parseFrame('[2,""]'))).toMatchObject({ messageId: undefined, messageType: 2 });
    expect(errorOf(parseFrame(`[2,"${'z'.repeat(37)}"]`))).toMatchObject({ messageId: undefined });
    expect(errorOf(parseFrame('[8,42]'))).toMatchObject({ messageId: undefined, messageType: 8 });
  });
});

describe('message id length: at most 36 characters', () => {
  it('accepts 36 ASCII characters (a UUID) and refuses 37', () => {
    const uuid = '0b4cc0e8-9e1e-4f36-a3a0-3a3c2d8f6c11';
    expect(uuid).toHaveLength(36);
    expect(frameOf(parseFrame(`[3,"${uuid}",{}]`)).id).toBe(uuid);
    expect(errorOf(parseFrame(`[3,"${uuid}x",{}]`)).reason).toBe('bad-message-id');
  });

  it('counts multi-byte UTF-8 characters once each, from a Buffer too', () => {
    const id = 'é€'.repeat(18);
    expect(Buffer.byteLength(id)).toBeGreaterThan(36);
    expect(frameOf(parseFrame(Buffer.from(`[3,"${id}",{}]`))).id).toBe(id);
    expect(errorOf(parseFrame(Buffer.from(`[3,"${id}é",{}]`))).reason).toBe('bad-message-id');
  });

  it('counts code points, so 36 emoji (72 UTF-16 units) are accepted and 37 are not', () => {
    const id = '😀'.repeat(36);
    expect(id).toHaveLength(72);
    expect(frameOf(parseFrame(`[3,"${id}",{}]`)).id).toBe(id);
    expect(errorOf(parseFrame(`[3,"${id}😀",{}]`)).reason).toBe('bad-message-id');
  });

  it('counts an escaped character as the character it stands for', () => {
    const id = '\\u0041'.repeat(36);
    expect(frameOf(parseFrame(`[3,"${id}",{}]`)).id).toBe('A'.repeat(36));
  });

  it('counts lone surrogates as one character each', () => {
    expect(isValidMessageId('\ud800'.repeat(36))).toBe(true);
    expect(isValidMessageId('\ud800'.repeat(37))).toBe(false);
    expect(isValidMessageId('😀'.repeat(35) + '\udc00')).toBe(true);
    expect(isValidMessageId('')).toBe(false);
  });
});

describe('isPlainObject', () => {
  it('accepts JSON objects only', () => {
    expect(isPlainObject({})).toBe(true);
    expect(isPlainObject({ a: 1 })).toBe(true);
    expect(isPlainObject([])).toBe(false);
    expect(isPlainObject(null)).toBe(false);
    expect(isPlainObject('{}')).toBe(false);
    expect(isPlainObject(1)).toBe(false);
  });
});

describe('constructors and serializeFrame', () => {
  it('serialises each type in OCPP-J form', () => {
    expect(serializeFrame(call('c1', 'Heartbeat'))).toBe('[2,"c1","Heartbeat",{}]');
    expect(serializeFrame(callResult('c1', { currentTime: 'now' }))).toBe('[3,"c1",{"currentTime":"now"}]');
    expect(serializeFrame(callError('-1', 'FormatViolation', 'bad frame'))).toBe('[4,"-1","FormatViolation","bad frame",{}]');
    expect(serializeFrame(callResultError('r', 'InternalError', 'x', { at: 1 }))).toBe('[5,"r","InternalError","x",{"at":1}]');
    expect(serializeFrame(send('s', 'NotifyPeriodicEventStream', { id: 1 }))).toBe(
      '[6,"s","NotifyPeriodicEventStream",{"id":1}]',
    );
  });

  it('cuts error descriptions to 255 characters', () => {
    const frame = callError('a', 'GenericError', 'x'.repeat(1000));
    expect(frame.errorDescription).toHaveLength(MAX_ERROR_DESCRIPTION_LENGTH);
    expect(callResultError('a', 'GenericError', 'y'.repeat(256)).errorDescription).toHaveLength(255);
    expect(callError('a', 'GenericError', 'z'.repeat(255)).errorDescription).toHaveLength(255);
  });

  it('also cuts descriptions of frames built by hand when serialising', () => {
    const frame: Frame = {
      type: MessageType.CallError,
      id: 'a',
      errorCode: 'GenericError',
      errorDescription: 'q'.repeat(300),
      errorDetails: {},
    };
    const parsed = frameOf(parseFrame(serializeFrame(frame)));
    expect(parsed.type === MessageType.CallError && parsed.errorDescription).toBe('q'.repeat(255));
  });

  it('never splits a surrogate pair when cutting', () => {
    const cutText = truncateDescription('😀'.repeat(300));
    expect(cutText).toBe('😀'.repeat(255));
    expect(cutText).toHaveLength(510);
    const mixed = truncateDescription('a' + '😀'.repeat(300));
    expect(mixed).toBe('a' + '😀'.repeat(254));
  });

  it('round-trips any frame through serializeFrame and parseFrame (property)', () => {
    const idArb = fc.string({ unit: 'binary', minLength: 1, maxLength: 36 });
    const actionArb = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });
    const objectArb = fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 5 });
    const frameArb: fc.Arbitrary<Frame> = fc.oneof(
      fc.tuple(idArb, actionArb, objectArb).map(([id, action, payload]) => call(id, action, payload)),
      fc.tuple(idArb, objectArb).map(([id, payload]) => callResult(id, payload)),
      fc
        .tuple(idArb, fc.string(), fc.string({ maxLength: 300 }), objectArb)
        .map(([id, code, description, details]) => callError(id, code, description, details)),
      fc
        .tuple(idArb, fc.string(), fc.string({ maxLength: 300 }), objectArb)
        .map(([id, code, description, details]) => callResultError(id, code, description, details)),
      fc.tuple(idArb, actionArb, objectArb).map(([id, action, payload]) => send(id, action, payload)),
    );
    fc.assert(
      fc.property(frameArb, (frame) => {
        const text = serializeFrame(frame);
        const parsed = frameOf(parseFrame(text));
        // Compare through JSON: payloads may hold -0, which JSON writes as 0.
        expect(JSON.stringify(parsed)).toBe(JSON.stringify(frame));
        expect(frameOf(parseFrame(Buffer.from(text)))).toEqual(parsed);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('parseFrame on garbage', () => {
  it('never throws and always returns a reason (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.json(), fc.uint8Array().map((a) => Buffer.from(a))), (data) => {
        const result = parseFrame(data);
        if (!result.ok) expect(typeof result.error.reason).toBe('string');
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

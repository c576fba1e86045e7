import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeFrame } from '../../src/logging/describe-frame.js';

const NUM_RUNS = 2000;

/** Both forms the proxy sees: text and the UTF-8 bytes of it. */
function bothForms(text: string): [string, Buffer] {
  return [text, Buffer.from(text, 'utf8')];
}

describe('describeFrame: valid frames', () => {
  it('describes a CALL as label, action, id and the raw payload', () => {
    for (const data of bothForms('[2,"abc123","BootNotification",{"chargePointVendor":"X","chargePointModel":"Y"}]')) {
      expect(describeFrame(data, false, 0)).toBe(
        '[CALL] BootNotification (abc123) {"chargePointVendor":"X","chargePointModel":"Y"}',
      );
    }
  });

  it('describes CALLRESULT, CALLERROR, CALLRESULTERROR and SEND', () => {
    expect(describeFrame('[3,"abc123",{"status":"Accepted"}]', false, 0)).toBe('[CALLRESULT] (abc123) {"status":"Accepted"}');
    expect(describeFrame('[4,"abc123","GenericError","It broke",{"at":"x"}]', false, 0)).toBe(
      '[CALLERROR] (abc123) GenericError "It broke",{"at":"x"}',
    );
    expect(describeFrame('[5,"r1","FormatViolation","",{}]', false, 0)).toBe('[CALLRESULTERROR] (r1) FormatViolation "",{}');
    expect(describeFrame('[6,"s1","NotifyPeriodicEventStream",{"id":1}]', false, 0)).toBe(
      '[SEND] NotifyPeriodicEventStream (s1) {"id":1}',
    );
  });

  it('shows the payload exactly as received, whitespace and escapes included', () => {
    const text = '  [2, "a" , "Authorize",\n  { "idTag" : "\\u00c4BC" }\n]  ';
    for (const data of bothForms(text)) {
      expect(describeFrame(data, false, 0)).toBe('[CALL] Authorize (a) { "idTag" : "\\u00c4BC" }');
    }
  });

  it('shows decoded ids and actions', () => {
    expect(describeFrame('[2,"\\u0041\\"1","Heart\\u0062eat",{}]', false, 0)).toBe('[CALL] Heartbeat (A"1) {}');
    expect(describeFrame(Buffer.from('[3,"ü😀",{}]'), false, 0)).toBe('[CALLRESULT] (ü😀) {}');
  });

  it('still describes a head whose payload is broken (it does not parse the payload)', () => {
    expect(describeFrame('[2,"a","DataTransfer",{"data":', false, 0)).toBe('[CALL] DataTransfer (a) {"data":');
  });

  it('describes a valid frame the scanner does not read (type 2.0) from the parser, with the raw text', () => {
    expect(describeFrame('[2.0,"a","Heartbeat",{}]', false, 0)).toBe('[CALL] Heartbeat (a) [2.0,"a","Heartbeat",{}]');
    expect(describeFrame('[4e0,"a","GenericError","d",{}]', false, 0)).toBe(
      '[CALLERROR] (a) GenericError [4e0,"a","GenericError","d",{}]',
    );
  });
});

describe('describeFrame: cutting the body', () => {
  const text = '[2,"a","DataTransfer",{"vendorId":"0123456789"}]';

  it('cuts at maxBodyLength characters and marks the cut with …', () => {
    for (const data of bothForms(text)) {
      expect(describeFrame(data, false, 10)).toBe('[CALL] DataTransfer (a) {"vendorId…');
    }
  });

  it('does not cut a body of exactly maxBodyLength characters', () => {
    const body = '{"vendorId":"0123456789"}';
    for (const data of bothForms(text)) {
      expect(describeFrame(data, false, body.length)).toBe(`[CALL] DataTransfer (a) ${body}`);
      expect(describeFrame(data, false, body.length - 1)).toBe(`[CALL] DataTransfer (a) ${body.slice(0, -1)}…`);
    }
  });

  it('treats 0, negative and non-finite limits as no limit', () => {
    for (const limit of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(describeFrame(text, false, limit)).toBe('[CALL] DataTransfer (a) {"vendorId":"0123456789"}');
    }
  });

  it('cuts multi-byte text from a Buffer at the same character as from a string', () => {
    const multi = `[3,"a",{"text":"${'äöü€😀'.repeat(50)}"}]`;
    for (const limit of [1, 2, 9, 10, 11, 12, 13, 50, 100]) {
      expect(describeFrame(Buffer.from(multi), false, limit)).toBe(describeFrame(multi, false, limit));
    }
  });

  it('caps action and error code names at 64 characters, whatever the body limit', () => {
    const longName = 'N'.repeat(100);
    expect(describeFrame(`[2,"a","${longName}",{}]`, false, 0)).toBe(`[CALL] ${'N'.repeat(64)}… (a) {}`);
    expect(describeFrame(`[4,"a","${longName}","d",{}]`, false, 3)).toBe(`[CALLERROR] (a) ${'N'.repeat(64)}… "d"…`);
  });

  it('never splits a surrogate pair', () => {
    // Body `{"e":"😀…`: the emoji's two UTF-16 units sit at offsets 6 and 7.
    const emoji = '[3,"a",{"e":"😀😀"}]';
    expect(describeFrame(emoji, false, 7)).toBe('[CALLRESULT] (a) {"e":"…');
    expect(describeFrame(emoji, false, 8)).toBe('[CALLRESULT] (a) {"e":"😀…');
  });

  it('cuts a huge payload without decoding all of it', () => {
    const huge = Buffer.from(`[2,"a","DataTransfer",{"data":"${'x'.repeat(5_000_000)}"}]`);
    expect(describeFrame(huge, false, 20)).toBe('[CALL] DataTransfer (a) {"data":"xxxxxxxxxxx…');
  });
});

describe('describeFrame: binary and invalid frames', () => {
  it('gives only the size of a binary frame', () => {
    expect(describeFrame(Buffer.alloc(123), true, 10)).toBe('[BINARY] 123 bytes');
    expect(describeFrame('é', true, 10)).toBe('[BINARY] 2 bytes');
  });

  it('names the reason and shows the start of the raw text', () => {
    expect(describeFrame('[2,"","A",{}]', false, 0)).toBe('[INVALID] bad-message-id [2,"","A",{}]');
    expect(describeFrame(Buffer.from('{"hello":"world"}'), false, 5)).toBe('[INVALID] not-array {"hel…');
    expect(describeFrame('[7,"a",{}]', false, 0)).toBe('[INVALID] unknown-message-type [7,"a",{}]');
    expect(describeFrame('[2,"a","A",null]', false, 0)).toBe('[INVALID] bad-payload [2,"a","A",null]');
    expect(describeFrame('', false, 0)).toBe('[INVALID] not-json');
  });
});

describe('describeFrame never throws (property)', () => {
  it('on any text, bytes and limit', () => {
    const dataArb = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.json().map((json) => `[2,"a","A",${json}]`),
      fc.string().map((tail) => `[4,"a",${tail}`),
      fc.string().map((tail) => `[3,"${tail}`),
      fc.uint8Array().map((bytes) => Buffer.from(bytes)),
    );
    fc.assert(
      fc.property(dataArb, fc.boolean(), fc.integer({ min: -2, max: 50 }), (data, isBinary, limit) => {
        const line = describeFrame(data, isBinary, limit);
        expect(line).toMatch(/^\[(CALL|CALLRESULT|CALLERROR|CALLRESULTERROR|SEND|BINARY|INVALID)\]/);
        if (typeof data === 'string') expect(describeFrame(Buffer.from(data), isBinary, limit)).toBe(line);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('credentials in frame bodies', () => {
  it.each([
    ['[2,"p1","ChangeConfiguration",{"key":"AuthorizationKey","value":"S3cretAuthKey0123456"}]', 'S3cretAuthKey0123456'],
    ['[2,"p2","SetVariables",{"setVariableData":[{"attributeValue":"Basic-Pass-1234567","component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuthPassword"}}]}]', 'Basic-Pass-1234567'],
    ['[2,"p3","UpdateFirmware",{"location":"ftp://user:ftp-secret@fw.example.com/fw.bin","retrieveDate":"2026-01-01T00:00:00Z"}]', 'ftp-secret'],
    ['[2,"p4","GetDiagnostics",{"location":"https://up.example.com/x?sig=signed-token-123"}]', 'signed-token-123'],
    ['[2.0,"p5","SetNetworkProfile",{"configurationSlot":1,"connectionData":{"ocppCsmsUrl":"wss://x","basicAuthPassword":"np-secret-99"}}]', 'np-secret-99'],
  ])('never shows the body of %s', (frame, secret) => {
    const line = describeFrame(frame, false, 0);
    expect(line).not.toContain(secret);
    expect(line).toContain('[body not logged: may carry credentials]');
  });

  // Issue 11, finding 5: a ChangeConfiguration with an invalid message id was logged whole, AuthorizationKey and all.
  it.each([
    ['[2,"","ChangeConfiguration",{"key":"AuthorizationKey","value":"S3cretAuthKey0123456"}]', 'S3cretAuthKey0123456'],
    ['[2,"' + 'x'.repeat(37) + '","ChangeConfiguration",{"key":"AuthorizationKey","value":"S3cretAuthKey0123456"}]', 'S3cretAuthKey0123456'],
    ['[2,42,"SetVariables",{"setVariableData":[{"attributeValue":"Basic-Pass-1234567","variable":{"name":"BasicAuthPassword"}}]}]', 'Basic-Pass-1234567'],
    ['[2,"p7","ChangeConfiguration",{"key":"AuthorizationKey","value":"S3cretAuthKey0123456"}', 'S3cretAuthKey0123456'],
    ['[3,"r1",{"configurationKey":[{"key":"AuthorizationKey","readonly":false,"value":"S3cretAuthKey0123456"}]}]', 'S3cretAuthKey0123456'],
    ['[4,"r2","GenericError","bad",{"echo":{"basicAuthPassword":"np-secret-99"}}]', 'np-secret-99'],
    ['[2,"p8","DataTransfer",{"vendorId":"v","data":"{\\"password\\":\\"dt-secret-1\\"}"}]', 'dt-secret-1'],
  ])('never shows a credential, whatever the message id or frame type: %s', (frame, secret) => {
    for (const data of bothForms(frame)) {
      const line = describeFrame(data, false, 0);
      expect(line).not.toContain(secret);
      expect(line).toContain('[body not logged: may carry credentials]');
    }
  });

  it('still names what is wrong with an invalid frame whose body is withheld', () => {
    expect(describeFrame('[2,"","ChangeConfiguration",{"key":"AuthorizationKey","value":"x"}]', false, 0)).toBe(
      '[INVALID] bad-message-id [body not logged: may carry credentials]',
    );
  });

  it('still shows bodies of harmless commands', () => {
    expect(describeFrame('[2,"p6","GetConfiguration",{"key":["HeartbeatInterval"]}]', false, 0)).toContain('HeartbeatInterval');
  });
});

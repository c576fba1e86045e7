import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageType, parseFrame } from '../../src/ocpp/frame.js';
import type { Frame } from '../../src/ocpp/frame.js';
import { PAYLOAD_LEVEL_REASONS, readStringToken, scanFrameHead, scanFrameHeadWithBody } from '../../src/ocpp/scan.js';
import type { FrameHead } from '../../src/ocpp/scan.js';

const NUM_RUNS = 2000;

function headOf(frame: Frame): FrameHead {
  const action = frame.type === MessageType.Call || frame.type === MessageType.Send ? frame.action : undefined;
  return { type: frame.type, id: frame.id, action };
}

/** Both forms the proxy sees: text and the UTF-8 bytes of it. */
function bothForms(text: string): [string, Buffer] {
  return [text, Buffer.from(text, 'utf8')];
}

/**
 * The contract between scanner and parser, checked on any input: scanning never throws; a head the scanner
 * returns equals the parser's; and if the parser rejects the frame, only for a problem beyond the head.
 */
function checkAgreement(data: Buffer | string): void {
  const head = scanFrameHeadWithBody(data);
  if (head === undefined) {
    expect(scanFrameHead(data)).toBeUndefined();
    return;
  }
  const plainHead: FrameHead = { type: head.type, id: head.id, action: head.action };
  expect(scanFrameHead(data)).toEqual(plainHead);

  // "Beyond the head" made checkable: keep the frame up to where the body starts, complete it with a valid
  // body, and the parser must accept it with the same head. A reason like 'not-json' alone could hide a bad
  // head (an unescaped control character in the id, say).
  const prefix = typeof data === 'string' ? data.slice(0, head.bodyStart) : data.toString('utf8', 0, head.bodyStart);
  const isError = head.type === MessageType.CallError || head.type === MessageType.CallResultError;
  const completed = parseFrame(prefix + (isError ? '"Code","description",{}]' : '{}]'));
  expect(completed.ok ? headOf(completed.frame) : completed.error.reason).toEqual(plainHead);

  const parsed = parseFrame(data);
  if (parsed.ok) {
    expect(plainHead).toEqual(headOf(parsed.frame));
    return;
  }
  expect(PAYLOAD_LEVEL_REASONS.has(parsed.error.reason), `scan read ${JSON.stringify(head)}, parse: ${parsed.error.reason}`).toBe(
    true,
  );
  if (parsed.error.reason !== 'not-json') {
    expect(parsed.error.messageId).toBe(head.id);
    expect(parsed.error.messageType).toBe(head.type);
  }
}

describe('scanFrameHead: examples', () => {
  it('reads CALL, CALLRESULT, CALLERROR, CALLRESULTERROR and SEND heads', () => {
    for (const data of bothForms('[2,"19223201","BootNotification",{"chargePointVendor":"VendorX"}]')) {
      expect(scanFrameHead(data)).toEqual({ type: 2, id: '19223201', action: 'BootNotification' });
    }
    for (const data of bothForms('[3,"19223201",{"status":"Accepted"}]')) {
      expect(scanFrameHead(data)).toEqual({ type: 3, id: '19223201', action: undefined });
    }
    for (const data of bothForms('[4,"162376037","NotSupported","not implemented",{"x":1}]')) {
      expect(scanFrameHead(data)).toEqual({ type: 4, id: '162376037', action: undefined });
    }
    for (const data of bothForms('[5,"r1","FormatViolation","",{}]')) {
      expect(scanFrameHead(data)).toEqual({ type: 5, id: 'r1', action: undefined });
    }
    for (const data of bothForms('[6,"s1","NotifyPeriodicEventStream",{}]')) {
      expect(scanFrameHead(data)).toEqual({ type: 6, id: 's1', action: 'NotifyPeriodicEventStream' });
    }
  });

  it('allows JSON whitespace everywhere in the head', () => {
    for (const data of bothForms(' \r\n\t[ \n2\t, "a" ,\r\n"Heartbeat" , {}]')) {
      expect(scanFrameHead(data)).toEqual({ type: 2, id: 'a', action: 'Heartbeat' });
    }
  });

  it('decodes multi-byte UTF-8 ids from a Buffer', () => {
    const id = 'ü€😀日本';
    const buffer = Buffer.from(`[3,"${id}",{}]`, 'utf8');
    expect(scanFrameHead(buffer)).toEqual({ type: 3, id, action: undefined });
  });

  it('decodes escapes in id and action exactly as JSON.parse does', () => {
    for (const data of bothForms('[2,"a\\"b\\\\c\\/\\u00e9\\ud83d\\ude00\\n","Boot\\u004Eotification",{}]')) {
      expect(scanFrameHead(data)).toEqual({ type: 2, id: 'a"b\\c/é😀\n', action: 'BootNotification' });
    }
  });

  it('keeps a raw lone surrogate in a string id, as JSON.parse does', () => {
    const text = '[3,"a\ud800b",{}]';
    expect(scanFrameHead(text)).toEqual({ type: 3, id: 'a\ud800b', action: undefined });
    checkAgreement(text);
  });

  it('does not read the payload (a huge broken payload still scans)', () => {
    const text = `[2,"a","DataTransfer",{${'x'.repeat(1_000_000)}`;
    expect(scanFrameHead(text)).toEqual({ type: 2, id: 'a', action: 'DataTransfer' });
  });

  it('applies the 36-character id limit like parseFrame', () => {
    const uuid = '0b4cc0e8-9e1e-4f36-a3a0-3a3c2d8f6c11';
    expect(scanFrameHead(`[3,"${uuid}",{}]`)?.id).toBe(uuid);
    expect(scanFrameHead(`[3,"${uuid}x",{}]`)).toBeUndefined();
    const emoji = '😀'.repeat(36);
    for (const data of bothForms(`[3,"${emoji}",{}]`)) expect(scanFrameHead(data)?.id).toBe(emoji);
    for (const data of bothForms(`[3,"${emoji}😀",{}]`)) expect(scanFrameHead(data)).toBeUndefined();
  });

  it('tells where the body starts, in bytes for a Buffer and in units for a string', () => {
    const text = '[2,"é","A", {"k":1}]';
    expect(scanFrameHeadWithBody(text)?.bodyStart).toBe(text.indexOf('{'));
    expect(scanFrameHeadWithBody(Buffer.from(text))?.bodyStart).toBe(Buffer.from(text).indexOf('{'));
    expect(scanFrameHeadWithBody('[4,"a", "Code","d",{}]')?.bodyStart).toBe(8);
  });

  it('reads a string token at an offset', () => {
    expect(readStringToken('x"ab\\u0063"', 1)).toEqual({ value: 'abc', end: 11 });
    expect(readStringToken(Buffer.from('"€"'), 0)).toEqual({ value: '€', end: 5 });
    expect(readStringToken('"abc', 0)).toBeUndefined();
    expect(readStringToken('abc"', 0)).toBeUndefined();
  });
});

describe('scanFrameHead: what it refuses (the caller falls back to parseFrame)', () => {
  it.each([
    ['empty input', ''],
    ['not an array', '{"a":1}'],
    ['a byte-order mark', '\uFEFF[2,"a","A",{}]'],
    ['an unknown type', '[7,"a","A",{}]'],
    ['type 1', '[1,"a","A",{}]'],
    ['a two-digit type', '[20,"a","A",{}]'],
    ['a type written 2.0', '[2.0,"a","A",{}]'],
    ['a type written 2e0', '[2e0,"a","A",{}]'],
    ['a negative type', '[-2,"a","A",{}]'],
    ['a string type', '["2","a","A",{}]'],
    ['a number id', '[2,1,"A",{}]'],
    ['an empty id', '[2,"","A",{}]'],
    ['a 37-character id', `[2,"${'i'.repeat(37)}","A",{}]`],
    ['an unterminated id', '[2,"abc'],
    ['a raw control character in the id', '[2,"a\nb","A",{}]'],
    ['a bad escape in the id', '[2,"a\\x","A",{}]'],
    ['a short \\u escape in the id', '[2,"a\\u12","A",{}]'],
    ['a missing comma', '[2 "a","A",{}]'],
    ['a vertical tab (not JSON whitespace)', '[\u000b2,"a","A",{}]'],
    ['a form feed (not JSON whitespace)', '[2,\f"a","A",{}]'],
    ['a no-break space (not JSON whitespace)', '[2,"a",\u00a0"A",{}]'],
    ['an empty action', '[2,"a","",{}]'],
    ['a number action', '[2,"a",5,{}]'],
    ['a missing payload', '[2,"a","A"]'],
    ['a null payload', '[2,"a","A",null]'],
    ['an array payload', '[3,"a",[]]'],
    ['a CALLRESULT without payload', '[3,"a"]'],
    ['a CALLERROR with a number code', '[4,"a",1,"d",{}]'],
    ['a CALLERROR without code', '[4,"a"]'],
  ])('%s', (_name, text) => {
    for (const data of bothForms(text)) expect(scanFrameHead(data)).toBeUndefined();
  });
});

describe('scanFrameHead: documented heads for frames parseFrame rejects (payload-level only)', () => {
  it.each([
    ['truncated payload', '[2,"a","A",{"k":', 'not-json'],
    ['trailing garbage', '[2,"a","A",{}]]', 'not-json'],
    ['an extra element', '[2,"a","A",{},{}]', 'bad-length'],
    ['a CALLERROR cut short', '[4,"a","Code"]', 'bad-length'],
    ['CALLERROR details not an object', '[4,"a","Code","d",null]', 'bad-payload'],
    ['CALLERROR description not a string', '[4,"a","Code",1,{}]', 'bad-error-description'],
  ] as const)('%s', (_name, text, reason) => {
    const parsed = parseFrame(text);
    expect(parsed.ok ? 'ok' : parsed.error.reason).toBe(reason);
    expect(PAYLOAD_LEVEL_REASONS.has(reason)).toBe(true);
    for (const data of bothForms(text)) expect(scanFrameHead(data)).toBeDefined();
    checkAgreement(text);
  });
});

// ---- Generated frames -------------------------------------------------------------------------------------

/** How one code point is written inside a JSON string token. */
type Spelling = 'raw' | 'u-lower' | 'u-upper' | 'short';

const SHORT_ESCAPES: ReadonlyMap<number, string> = new Map([
  [0x22, '\\"'],
  [0x5c, '\\\\'],
  [0x2f, '\\/'],
  [0x08, '\\b'],
  [0x0c, '\\f'],
  [0x0a, '\\n'],
  [0x0d, '\\r'],
  [0x09, '\\t'],
]);

const codePointArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 1, arbitrary: fc.integer({ min: 0x00, max: 0x1f }) },
  { weight: 1, arbitrary: fc.constantFrom(0x22, 0x5c, 0x2f, 0x7f) },
  { weight: 2, arbitrary: fc.integer({ min: 0x80, max: 0xd7ff }) },
  { weight: 1, arbitrary: fc.integer({ min: 0xe000, max: 0xffff }) },
  { weight: 2, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }) },
  // Lone surrogates can only travel escaped in UTF-8 text; the encoder below always escapes them.
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }) },
);

const spelledArb = fc.tuple(codePointArb, fc.constantFrom<Spelling>('raw', 'raw', 'raw', 'u-lower', 'u-upper', 'short'));

function hex4(unit: number, upper: boolean): string {
  const digits = unit.toString(16).padStart(4, '0');
  return `\\u${upper ? digits.toUpperCase() : digits}`;
}

/** Writes a JSON string token, each code point spelt as chosen where JSON allows that spelling. */
function encodeToken(chars: readonly (readonly [number, Spelling])[]): string {
  let token = '"';
  for (const [cp, spelling] of chars) {
    const text = String.fromCodePoint(cp);
    const isSurrogate = cp >= 0xd800 && cp <= 0xdfff;
    const short = SHORT_ESCAPES.get(cp);
    const mustEscape = cp < 0x20 || cp === 0x22 || cp === 0x5c || isSurrogate;
    if (spelling === 'short' && short !== undefined) token += short;
    else if (spelling === 'raw' && !mustEscape) token += text;
    else {
      const upper = spelling === 'u-upper';
      for (let i = 0; i < text.length; i++) token += hex4(text.charCodeAt(i), upper);
    }
  }
  return token + '"';
}

function decodeChars(chars: readonly (readonly [number, Spelling])[]): string {
  return chars.map(([cp]) => String.fromCodePoint(cp)).join('');
}

const whitespaceArb = fc
  .array(fc.constantFrom(' ', '\t', '\n', '\r'), { maxLength: 3 })
  .map((units) => units.join(''));

const objectTextArb = fc
  .tuple(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), fc.constantFrom(undefined, 2, '\t'))
  .map(([value, indent]) => JSON.stringify(value, null, indent));

interface GeneratedFrame {
  readonly text: string;
  readonly type: MessageType;
  readonly id: string;
  readonly action: string | undefined;
}

/** `typeTemplateArb` spells the type: `#` stands for its digit (`#.0` writes CALL as `2.0`). */
function generatedFrameArb(typeTemplateArb: fc.Arbitrary<string> = fc.constant('#')): fc.Arbitrary<GeneratedFrame> {
  return fc
    .record({
      type: fc.constantFrom<MessageType>(2, 3, 4, 5, 6),
      typeTemplate: typeTemplateArb,
      id: fc.array(spelledArb, { minLength: 1, maxLength: 36 }),
      action: fc.array(spelledArb, { minLength: 1, maxLength: 40 }),
      code: fc.array(spelledArb, { maxLength: 30 }),
      description: fc.array(spelledArb, { maxLength: 60 }),
      body: objectTextArb,
      ws: fc.array(whitespaceArb, { minLength: 14, maxLength: 14 }),
    })
    .map(({ type, typeTemplate, id, action, code, description, body, ws }) => {
      const w = (i: number): string => ws[i] ?? '';
      const hasAction = type === MessageType.Call || type === MessageType.Send;
      const isError = type === MessageType.CallError || type === MessageType.CallResultError;
      let text = `${w(0)}[${w(1)}${typeTemplate.replace('#', String(type))}${w(2)},${w(3)}${encodeToken(id)}${w(4)},${w(5)}`;
      if (hasAction) text += `${encodeToken(action)}${w(6)},${w(7)}`;
      if (isError) text += `${encodeToken(code)}${w(8)},${w(9)}${encodeToken(description)}${w(10)},${w(11)}`;
      text += `${body}${w(12)}]${w(13)}`;
      return { text, type, id: decodeChars(id), action: hasAction ? decodeChars(action) : undefined };
    });
}

/** Characters that make mutations likely to hit the interesting parts of the grammar. */
const jsonishCharArb = fc.constantFrom('[', ']', '{', '}', '"', '\\', ',', ':', ' ', '\n', '2', '3', '4', '6', '0', '.', 'e', 'u', 'a', 'é', '😀', '\u0001', '\u000b', '\f', '\u00a0');

type Mutation =
  | { readonly kind: 'insert'; readonly at: number; readonly text: string }
  | { readonly kind: 'delete'; readonly at: number; readonly count: number }
  | { readonly kind: 'truncate'; readonly at: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: jsonishCharArb }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(text: string, mutations: readonly Mutation[]): string {
  let result = text;
  for (const mutation of mutations) {
    const at = result.length === 0 ? 0 : mutation.at % (result.length + 1);
    if (mutation.kind === 'insert') result = result.slice(0, at) + mutation.text + result.slice(at);
    else if (mutation.kind === 'delete') result = result.slice(0, at) + result.slice(at + mutation.count);
    else result = result.slice(0, at);
  }
  return result;
}

describe('scanFrameHead agrees with parseFrame (properties)', () => {
  it('reads the same head as parseFrame on every generated valid frame, as string and as Buffer', () => {
    fc.assert(
      fc.property(generatedFrameArb(), (generated) => {
        const expected: FrameHead = { type: generated.type, id: generated.id, action: generated.action };
        for (const data of bothForms(generated.text)) {
          const parsed = parseFrame(data);
          if (!parsed.ok) throw new Error(`generator produced an invalid frame (${parsed.error.reason}): ${generated.text}`);
          expect(headOf(parsed.frame)).toEqual(expected);
          expect(scanFrameHead(data)).toEqual(expected);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('returns undefined or the same head for types spelt as non-canonical numbers', () => {
    const typeTemplateArb = fc.constantFrom('#.0', '#e0', '#0e-1', '0.#e1', '#.00E+0', '#E0');
    fc.assert(
      fc.property(generatedFrameArb(typeTemplateArb), (generated) => {
        for (const data of bothForms(generated.text)) {
          expect(parseFrame(data).ok).toBe(true);
          checkAgreement(data);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('never throws and never disagrees on mutated frames', () => {
    fc.assert(
      fc.property(generatedFrameArb(), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (generated, mutations) => {
        for (const data of bothForms(mutate(generated.text, mutations))) checkAgreement(data);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('never throws and never disagrees on random text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.string({ unit: jsonishCharArb }),
          fc.string({ unit: jsonishCharArb }).map((tail) => `[2,"${tail}`),
          fc.json().map((json) => `[3,"x",${json}]`),
        ),
        (text) => {
          checkAgreement(text);
          checkAgreement(Buffer.from(text, 'utf8'));
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('reads invalid UTF-8 the way a full decode does (random bytes after a frame start)', () => {
    const prefixArb = fc.constantFrom('', '[2,"', '[3,"', '[2,"id","', '[4,"id","');
    fc.assert(
      fc.property(prefixArb, fc.uint8Array({ maxLength: 60 }), fc.constantFrom('', '",{}]', '","A",{}]'), (prefix, bytes, suffix) => {
        const buffer = Buffer.concat([Buffer.from(prefix), bytes, Buffer.from(suffix)]);
        checkAgreement(buffer);
        // Decoding only the id's bytes must give what decoding the whole frame gives.
        expect(scanFrameHead(buffer)).toEqual(scanFrameHead(buffer.toString('utf8')));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

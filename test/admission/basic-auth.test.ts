import { describe, expect, it } from 'vitest';
import { parseBasicAuthorization } from '../../src/admission/basic-auth.js';

const basic = (credentials: string | Buffer): string => `Basic ${Buffer.from(credentials).toString('base64')}`;

describe('parseBasicAuthorization', () => {
  it('reads the user name and the password as bytes, split at the first colon (RFC 7617: the password may hold one)', () => {
    expect(parseBasicAuthorization(basic('CP-1:se:cret'))).toEqual({ kind: 'basic', user: Buffer.from('CP-1'), password: Buffer.from('se:cret') });
    const binary = Buffer.concat([Buffer.from('CP-1:'), Buffer.from([0x00, 0xff, 0x0a])]);
    expect(parseBasicAuthorization(basic(binary))).toEqual({ kind: 'basic', user: Buffer.from('CP-1'), password: Buffer.from([0x00, 0xff, 0x0a]) });
  });

  it('takes the scheme in any case, padding left out, and an empty password', () => {
    expect(parseBasicAuthorization('basic Q1AtMTpwdw')).toMatchObject({ kind: 'basic', user: Buffer.from('CP-1'), password: Buffer.from('pw') });
    expect(parseBasicAuthorization('BASIC  Q1AtMTpwdw==')).toMatchObject({ kind: 'basic', password: Buffer.from('pw') });
    expect(parseBasicAuthorization(basic('CP-1:'))).toMatchObject({ kind: 'basic', password: Buffer.alloc(0) });
  });

  it('says missing for no header', () => {
    expect(parseBasicAuthorization(undefined)).toEqual({ kind: 'missing' });
    expect(parseBasicAuthorization('  ')).toEqual({ kind: 'missing' });
  });

  it.each([
    ['Bearer abc'],
    ['Basic'],
    ['Basic '],
    ['Basic Q1AtMTpwdw== extra'],
    ['Basic Q1At*TpwdwQ'],
    ['Basic Q'],
    [basic('no colon at all')],
    ['Digest username="CP-1"'],
  ])('says malformed for %j', (header) => {
    expect(parseBasicAuthorization(header)).toEqual({ kind: 'malformed' });
  });
});

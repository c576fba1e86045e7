import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SCRYPT,
  formatPasswordHash,
  hashPassword,
  parsePasswordHash,
  verifyPassword,
  type PasswordHash,
} from '../../src/admission/password-hash.js';

/** Cheap parameters: these tests are about the format and the comparison, not scrypt's cost. */
const CHEAP = { cost: 1024, blockSize: 1, parallelization: 1 };

function parsed(text: string): PasswordHash {
  const result = parsePasswordHash(text);
  if (!result.ok) throw new Error(result.reason);
  return result.hash;
}

describe('password hashes', () => {
  it('writes scrypt$N$r$p$salt$key (base64url) with Node\'s default cost, and verifies the password it was made of', async () => {
    const text = await hashPassword(Buffer.from('correct horse battery'));
    expect(text).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(DEFAULT_SCRYPT).toEqual({ cost: 16_384, blockSize: 8, parallelization: 1 });
    const hash = parsed(text);
    expect(await verifyPassword(Buffer.from('correct horse battery'), hash)).toBe(true);
    expect(await verifyPassword(Buffer.from('correct horse batterx'), hash)).toBe(false);
    expect(await verifyPassword(Buffer.alloc(0), hash)).toBe(false);
  });

  it('salts each hash: the same password twice gives two hashes, each verifying it', async () => {
    const first = await hashPassword(Buffer.from('pw'), CHEAP);
    const second = await hashPassword(Buffer.from('pw'), CHEAP);
    expect(first).not.toBe(second);
    for (const text of [first, second]) expect(await verifyPassword(Buffer.from('pw'), parsed(text))).toBe(true);
  });

  it('checks with the parameters written in the hash, so the cost can change later', async () => {
    const text = await hashPassword(Buffer.from('pw'), { cost: 2048, blockSize: 2, parallelization: 2 });
    expect(text.startsWith('scrypt$2048$2$2$')).toBe(true);
    expect(await verifyPassword(Buffer.from('pw'), parsed(text))).toBe(true);
    expect(formatPasswordHash(parsed(text))).toBe(text);
  });

  it('treats passwords as bytes (a 1.6 AuthorizationKey may be binary)', async () => {
    const key = Buffer.from([0x00, 0xff, 0x3a, 0x80, 0x0a, 0x7f]);
    const hash = parsed(await hashPassword(key, CHEAP));
    expect(await verifyPassword(key, hash)).toBe(true);
    expect(await verifyPassword(Buffer.from(key.toString('utf8')), hash)).toBe(false);
  });

  it.each([
    ['', 'expected scrypt$N$r$p$salt$key'],
    ['bcrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U', 'expected scrypt$N$r$p$salt$key'],
    ['scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA', 'expected scrypt$N$r$p$salt$key'],
    ['scrypt$16385$8$1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U', 'N must be a power of two'],
    ['scrypt$512$8$1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U', 'N must be a power of two of at least 1024'],
    ['scrypt$1048576$8$1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U', 'MiB per check'],
    ['scrypt$16384$0$1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U', 'positive integers'],
    ['scrypt$16384$8$x$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U', 'positive integers'],
    ['scrypt$16384$8$1$c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U', 'the salt must be'],
    ['scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U', 'the salt must be'],
    ['scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA$a2V5+2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U', 'the key must be'],
    ['scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA$a2V5', 'the key must be'],
  ])('refuses %j, saying why without quoting it', (text, why) => {
    const result = parsePasswordHash(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toContain(why);
    if (text !== '') expect(result.reason).not.toContain(text);
  });
});

import { describe, expect, it } from 'vitest';
import { ChargerPasswords, MAX_RUNNING_PASSWORD_CHECKS, MAX_WAITING_PASSWORD_CHECKS } from '../../src/admission/charger-passwords.js';
import { hashPassword, parsePasswordHash, verifyPassword, type PasswordHash } from '../../src/admission/password-hash.js';

const CHEAP = { cost: 1024, blockSize: 1, parallelization: 1 };

async function hashOf(password: string): Promise<PasswordHash> {
  const parsed = parsePasswordHash(await hashPassword(Buffer.from(password), CHEAP));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.hash;
}

/** A verification the test finishes by hand: how many run, in which order. */
function heldChecks() {
  const pending: Array<{ password: string; finish: (accepted: boolean) => void }> = [];
  const verify = (password: Buffer): Promise<boolean> =>
    new Promise((resolve) => pending.push({ password: password.toString(), finish: resolve }));
  return { pending, verify };
}

const NEVER = new AbortController().signal;

describe('ChargerPasswords', () => {
  it('accepts the right password (scrypt), rejects a wrong one, and says unknown for an id without an entry', async () => {
    const passwords = new ChargerPasswords(new Map([['CP-1', await hashOf('right')]]));
    expect(await passwords.check('CP-1', Buffer.from('right'), NEVER)).toBe('accepted');
    expect(await passwords.check('CP-1', Buffer.from('wrong'), NEVER)).toBe('rejected');
    expect(await passwords.check('CP-2', Buffer.from('right'), NEVER)).toBe('unknown');
    expect(passwords.has('CP-1')).toBe(true);
    expect(passwords.has('CP-2')).toBe(false);
  });

  it('runs at most maxRunning checks at once, queues maxWaiting more, and refuses the rest as busy', async () => {
    const { pending, verify } = heldChecks();
    const passwords = new ChargerPasswords(new Map([['CP-1', await hashOf('right')]]), { maxRunning: 2, maxWaiting: 1, verify });
    const checks = ['a', 'b', 'c'].map((password) => passwords.check('CP-1', Buffer.from(password), NEVER));
    expect(await passwords.check('CP-1', Buffer.from('d'), NEVER)).toBe('busy');
    expect(pending.map((check) => check.password)).toEqual(['a', 'b']);
    expect([passwords.running, passwords.waiting]).toEqual([2, 1]);

    pending.shift()?.finish(false);
    expect(await checks[0]).toBe('rejected');
    // The finished check's turn went to the waiting one: still two running, none waiting.
    await Promise.resolve();
    expect(pending.map((check) => check.password)).toEqual(['b', 'c']);
    expect([passwords.running, passwords.waiting]).toEqual([2, 0]);
    for (const check of pending.splice(0)) check.finish(false);
    expect(await Promise.all(checks.slice(1))).toEqual(['rejected', 'rejected']);
    expect([passwords.running, passwords.waiting]).toEqual([0, 0]);
  });

  it('gives up the turn of a charger that leaves while waiting, and frees its place', async () => {
    const { pending, verify } = heldChecks();
    const passwords = new ChargerPasswords(new Map([['CP-1', await hashOf('right')]]), { maxRunning: 1, maxWaiting: 1, verify });
    const running = passwords.check('CP-1', Buffer.from('a'), NEVER);
    const leaving = new AbortController();
    const waiting = passwords.check('CP-1', Buffer.from('b'), leaving.signal);
    leaving.abort();
    expect(await waiting).toBe('aborted');
    expect(passwords.waiting).toBe(0);
    pending.shift()?.finish(true);
    expect(await running).toBe('accepted');
    expect(pending).toEqual([]);
    expect(passwords.running).toBe(0);
    expect(await passwords.check('CP-1', Buffer.from('c'), AbortSignal.abort())).toBe('aborted');
  });

  it('gives the turn back when a check fails with an error', async () => {
    const failing = (): Promise<boolean> => Promise.reject(new Error('scrypt failed'));
    const passwords = new ChargerPasswords(new Map([['CP-1', await hashOf('right')]]), { maxRunning: 1, verify: failing });
    await expect(passwords.check('CP-1', Buffer.from('a'), NEVER)).rejects.toThrow('scrypt failed');
    expect(passwords.running).toBe(0);
  });

  it('remembers a verified password for cacheTtlMs: a reconnect costs no scrypt, a wrong password still does and never evicts it', async () => {
    let now = 1_000;
    let verifications = 0;
    const hash = await hashOf('right');
    const passwords = new ChargerPasswords(new Map([['CP-1', hash], ['CP-2', await hashOf('right')]]), {
      cacheTtlMs: 60_000,
      now: () => now,
      verify: (password, against) => {
        verifications += 1;
        return verifyPassword(password, against);
      },
    });
    expect(await passwords.check('CP-1', Buffer.from('right'), NEVER)).toBe('accepted');
    expect(await passwords.check('CP-1', Buffer.from('right'), NEVER)).toBe('accepted');
    expect(verifications).toBe(1);
    expect(await passwords.check('CP-1', Buffer.from('wrong'), NEVER)).toBe('rejected');
    expect(await passwords.check('CP-1', Buffer.from('right'), NEVER)).toBe('accepted');
    expect(verifications).toBe(2);
    // Remembered per charger: CP-2's identical password is checked on its own.
    expect(await passwords.check('CP-2', Buffer.from('right'), NEVER)).toBe('accepted');
    expect(verifications).toBe(3);
    now += 60_000;
    expect(await passwords.check('CP-1', Buffer.from('right'), NEVER)).toBe('accepted');
    expect(verifications).toBe(4);
  });

  it('defaults to 2 checks running and 32 waiting', () => {
    const passwords = new ChargerPasswords(new Map());
    expect([passwords.maxRunning, passwords.maxWaiting]).toEqual([MAX_RUNNING_PASSWORD_CHECKS, MAX_WAITING_PASSWORD_CHECKS]);
    expect([MAX_RUNNING_PASSWORD_CHECKS, MAX_WAITING_PASSWORD_CHECKS]).toEqual([2, 32]);
  });
});

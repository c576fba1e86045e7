/**
 * `ocpp-splitter hash-password`, run as users run it (`node dist/cli.js`, built by `npm test`'s pretest):
 * the password on standard input, the hash on one line, usable as `chargers[].password_hash`.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parsePasswordHash, verifyPassword } from '../../src/admission/password-hash.js';
import { CLI, NO_ADMIN } from '../support/cli.js';

const HASH_LINE = /^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}\n$/;
const ENV = { PATH: process.env.PATH ?? '', ...NO_ADMIN };

function hashPasswordCli(input: string | Buffer) {
  const result = spawnSync(process.execPath, [CLI, 'hash-password'], { input, env: ENV, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function verifies(line: string, password: string | Buffer): Promise<boolean> {
  const parsed = parsePasswordHash(line.trim());
  if (!parsed.ok) throw new Error(parsed.reason);
  return verifyPassword(Buffer.from(password), parsed.hash);
}

describe('ocpp-splitter hash-password', () => {
  it('prints the hash of the password on standard input on one line and exits 0, with or without a final newline', async () => {
    for (const input of ['charger-password-16', 'charger-password-16\n', 'charger-password-16\r\n']) {
      const { code, stdout, stderr } = hashPasswordCli(input);
      expect(code, JSON.stringify(input)).toBe(0);
      expect(stdout).toMatch(HASH_LINE);
      expect(stderr).toBe('');
      expect(await verifies(stdout, 'charger-password-16')).toBe(true);
      expect(await verifies(stdout, 'charger-password-17')).toBe(false);
    }
  });

  it('works in a shell pipeline: echo -n pw | ocpp-splitter hash-password', async () => {
    const result = spawnSync('/bin/sh', ['-c', `echo -n 'pw from a pipe' | "${process.execPath}" "${CLI}" hash-password`], { env: ENV, encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(HASH_LINE);
    expect(await verifies(result.stdout, 'pw from a pipe')).toBe(true);
  });

  it('hashes the bytes as given (a binary 1.6 AuthorizationKey too)', async () => {
    const key = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x80, 0xff]);
    const { code, stdout } = hashPasswordCli(key);
    expect(code).toBe(0);
    expect(await verifies(stdout, key)).toBe(true);
  });

  it('refuses an empty password, and more than one line, with exit 2 and nothing on stdout', () => {
    for (const input of ['', '\n', 'first\nsecond\n']) {
      const { code, stdout, stderr } = hashPasswordCli(input);
      expect(code, JSON.stringify(input)).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/^ocpp-splitter hash-password: /);
    }
    expect(hashPasswordCli('').stderr).toContain('the password is empty');
    expect(hashPasswordCli('a\nb').stderr).toContain('more than one line');
  });

  it('takes no password as an argument (ps would show it): a usage error', () => {
    const result = spawnSync(process.execPath, [CLI, 'hash-password', 'secret'], { env: ENV, encoding: 'utf8', input: '' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('hash-password takes no arguments');
  });

  it('is mentioned by --help', () => {
    const result = spawnSync(process.execPath, [CLI, '--help'], { env: ENV, encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('ocpp-splitter hash-password');
  });
});

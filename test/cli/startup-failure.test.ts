/** The one line a failed start prints, and its exit code, for each cause (the CLI tests run the real process). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, StoreError } from '../../src/errors.js';
import { diagnoseDataDir, EXIT_CONFIG, EXIT_FAILURE, explainStartupFailure } from '../../src/startup-failure.js';
import { DEFAULT_STORE_FILE_NAME } from '../../src/store/sqlite-store.js';
import { closeAll, temporaryDirectory } from '../support/harness.js';

afterEach(closeAll);

const uid = process.getuid?.();
const AS = uid === undefined ? '' : ` as uid ${uid}`;

function listenError(code: string): Error {
  return Object.assign(new Error(`listen ${code}: something 0.0.0.0:9000`), { code, syscall: 'listen' });
}

describe('diagnoseDataDir', () => {
  it('accepts a writable directory, and a missing one that can be created', () => {
    const dir = temporaryDirectory();
    expect(diagnoseDataDir(dir)).toBeUndefined();
    expect(diagnoseDataDir(join(dir, 'new', 'deeper'))).toBeUndefined();
  });

  it('names a DATA_DIR that is a file, or a file in its path', () => {
    const dir = temporaryDirectory();
    const file = join(dir, 'file');
    writeFileSync(file, '');
    expect(diagnoseDataDir(file)).toBe(`cannot use the data directory ${file}${AS}: it is a file, not a directory. Set DATA_DIR / --data-dir / data_dir to a directory`);
    expect(diagnoseDataDir(join(file, 'a', 'b'))).toBe(
      `cannot use the data directory ${join(file, 'a', 'b')}${AS}: ${file} is a file, not a directory. Set DATA_DIR / --data-dir / data_dir to a directory`,
    );
  });

  it('resolves a relative DATA_DIR, so the line names the real place', () => {
    const dir = temporaryDirectory();
    writeFileSync(join(dir, 'data'), '');
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(diagnoseDataDir('./data')).toContain(`the data directory ${join(dir, 'data')}`);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('explainStartupFailure', () => {
  const context = { port: 9000, host: undefined, dataDir: './data' };

  it('a port in use: the port, the cause and the fix, exit 78', () => {
    expect(explainStartupFailure(listenError('EADDRINUSE'), context)).toEqual({
      message: 'cannot listen on port 9000: another program is using it (EADDRINUSE). Stop it, or set PORT / --port / port to a free port',
      exitCode: EXIT_CONFIG,
    });
  });

  it('a privileged port (EACCES) and another port refused', () => {
    expect(explainStartupFailure(listenError('EACCES'), { ...context, port: 443 }).message).toBe(
      'cannot listen on port 443: ports below 1024 need root or CAP_NET_BIND_SERVICE (EACCES). Set PORT / --port / port to 1024 or above (the default is 9000)',
    );
    expect(explainStartupFailure(listenError('EACCES'), context)).toEqual({
      message: 'cannot listen on port 9000: permission denied (EACCES). Set PORT / --port / port to another port',
      exitCode: EXIT_CONFIG,
    });
  });

  it('a host that is not this machine\'s, or does not resolve', () => {
    const host = { ...context, host: 'csms.invalid' };
    expect(explainStartupFailure(listenError('EADDRNOTAVAIL'), host).message).toMatch(/^cannot listen on csms\.invalid port 9000: csms\.invalid is not an address of this machine/);
    const notFound = explainStartupFailure(listenError('ENOTFOUND'), host);
    expect(notFound.exitCode).toBe(EXIT_CONFIG);
    expect(notFound.message).toContain('the host name csms.invalid does not resolve (ENOTFOUND)');
  });

  it('a store that cannot be opened in a usable directory: the store\'s own reason, exit 78', () => {
    const dir = temporaryDirectory();
    const error = new StoreError(ErrorCode.StoreUnavailable, `cannot open store ${join(dir, DEFAULT_STORE_FILE_NAME)}: SQLITE_NOTADB: file is not a database`);
    expect(explainStartupFailure(error, { ...context, dataDir: dir })).toEqual({
      message: `cannot open store ${join(dir, DEFAULT_STORE_FILE_NAME)}: SQLITE_NOTADB: file is not a database (data directory ${dir})`,
      exitCode: EXIT_CONFIG,
    });
  });

  it('a store that cannot be opened because of its directory: the directory\'s problem', () => {
    const dir = temporaryDirectory();
    const file = join(dir, 'data');
    writeFileSync(file, '');
    const error = new StoreError(ErrorCode.StoreUnavailable, 'cannot open store: SQLITE_CANTOPEN: unable to open database file');
    expect(explainStartupFailure(error, { ...context, dataDir: file }).message).toMatch(/it is a file, not a directory/);
  });

  it('anything else: one line, exit 1', () => {
    expect(explainStartupFailure(new Error('boom\n  at somewhere'), context)).toEqual({ message: 'cannot start: boom at somewhere', exitCode: EXIT_FAILURE });
    expect(explainStartupFailure('weird', context)).toEqual({ message: 'cannot start: weird', exitCode: EXIT_FAILURE });
  });

  // Root may write any file; the CLI tests meet permissions by running the proxy as another user.
  it.skipIf(uid === 0)('a store file this user may not write is named', () => {
    const dir = temporaryDirectory();
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', DEFAULT_STORE_FILE_NAME), '', { mode: 0o444 });
    expect(diagnoseDataDir(join(dir, 'data'))).toContain(`its store file ${join(dir, 'data', DEFAULT_STORE_FILE_NAME)} is not writable`);
  });
});

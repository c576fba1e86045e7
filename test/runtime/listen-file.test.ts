/** The listen file the proxy writes for the HEALTHCHECK: written whole, read back, stale ones told apart. */
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isProcessAlive,
  listenFilePath,
  publishListenAddress,
  readListenRecords,
  removeListenFile,
  RUNTIME_DIR_ENV,
  withdrawListenAddress,
  writeListenFile,
} from '../../src/runtime/listen-file.js';
import { captureLogs, closeAll, temporaryDirectory } from '../support/harness.js';

afterEach(closeAll);

/** The id of a process that has exited (and so, for a while, is not in use). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('listen file', () => {
  it('is written whole (no partial file left), read back, and removed', () => {
    const dir = join(temporaryDirectory(), 'run');
    const path = writeListenFile(dir, { pid: process.pid, address: '::', port: 9000 });
    expect(path).toBe(listenFilePath(dir, process.pid));
    expect(readdirSync(dir)).toEqual([`listen-${String(process.pid)}.json`]);
    expect(readListenRecords(dir)).toEqual({ live: [{ pid: process.pid, address: '::', port: 9000 }], skipped: [] });
    removeListenFile(path);
    removeListenFile(path);
    expect(readListenRecords(dir)).toEqual({ live: [], skipped: [] });
  });

  it('a missing directory holds no records', () => {
    expect(readListenRecords(join(temporaryDirectory(), 'absent'))).toEqual({ live: [], skipped: [] });
  });

  it('skips, and says why, files of processes that are gone and files that are not records; the next write removes the stale ones', () => {
    const dir = temporaryDirectory();
    const gone = deadPid();
    expect(isProcessAlive(gone)).toBe(false);
    writeFileSync(listenFilePath(dir, gone), JSON.stringify({ pid: gone, address: '0.0.0.0', port: 9000 }));
    writeFileSync(join(dir, 'listen-oops.json'), '{"pid":"x"}');
    writeFileSync(join(dir, 'unrelated.txt'), 'kept');
    const { live, skipped } = readListenRecords(dir);
    expect(live).toEqual([]);
    expect(skipped).toEqual([`${listenFilePath(dir, gone)}: process ${String(gone)} is gone`, `${join(dir, 'listen-oops.json')}: not a listen record`]);

    writeListenFile(dir, { pid: process.pid, address: '127.0.0.1', port: 9001 });
    expect(readdirSync(dir).sort()).toEqual(['listen-oops.json', `listen-${String(process.pid)}.json`, 'unrelated.txt'].sort());
  });

  it('main publishes only when RUNTIME_DIR is set, logs a failure instead of stopping, and withdraws what it wrote', () => {
    const logs = captureLogs();
    const address = { address: '0.0.0.0', family: 'IPv4', port: 9002 };
    expect(publishListenAddress({}, address, logs.logger)).toBeUndefined();

    const dir = temporaryDirectory();
    const path = publishListenAddress({ [RUNTIME_DIR_ENV]: dir }, address, logs.logger);
    expect(readListenRecords(dir).live).toEqual([{ pid: process.pid, address: '0.0.0.0', port: 9002 }]);
    withdrawListenAddress(path, logs.logger);
    expect(readdirSync(dir)).toEqual([]);

    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    expect(publishListenAddress({ [RUNTIME_DIR_ENV]: join(file, 'run') }, address, logs.logger)).toBeUndefined();
    expect(logs.lines.map((line) => line.msg)).toContain('cannot write the listen file for the healthcheck');
  });
});

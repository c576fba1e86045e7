/**
 * The proxy under test, as its own process (so it can be pinned to its own core
 * and measured alone). Config arrives as JSON in argv[2]; it reports through IPC.
 * `--memory-store` gives it the in-memory mirror store instead of the SQLite file
 * in `data_dir` (the reference for what durability costs). `--admin` adds the
 * admin listener (dashboard, status API, /metrics) the way the CLI does: created
 * before the proxy listens, so its observer sees the first charger arrive.
 */
import { parseArgs } from 'node:util';
import { createAdminServer, type AdminServer } from '../../src/admin/server.js';
import { configSchema } from '../../src/config/schema.js';
import { createLogger, taggedLogger } from '../../src/logging/logger.js';
import { createProxy } from '../../src/proxy.js';
import { MemoryMirrorStore } from '../../src/store/memory-store.js';

export type ProxyRequest = { type: 'sample' } | { type: 'cpu' } | { type: 'close' };
export type ProxyReport =
  /** `adminPort` only with `--admin`. */
  | { type: 'ready'; port: number; adminPort?: number }
  | { type: 'cpu'; cpuMicros: number }
  | { type: 'sample'; rss: number; heapUsed: number; cpuMicros: number; chargers: number; keepaliveSockets: number };

const send = (report: ProxyReport): void => {
  process.send?.(report);
};

const { values: flags, positionals } = parseArgs({
  options: { 'memory-store': { type: 'boolean', default: false }, admin: { type: 'boolean', default: false } },
  allowPositionals: true,
});
const config = configSchema.parse(JSON.parse(positionals[0] ?? '{}'));
const logger = createLogger(config.log_level);
const proxy = createProxy(config, flags['memory-store'] === true ? { logger, store: new MemoryMirrorStore() } : { logger });
// As src/cli.ts does, except the port: admin_port 0 turns the listener off in the CLI, but given to
// createAdminServer it binds an ephemeral port (as test/support/harness.ts startAdmin does).
const admin: AdminServer | undefined =
  flags.admin === true
    ? createAdminServer({ proxy, config: configSchema.parse({ ...config, admin_port: 0, admin_host: '127.0.0.1' }), log: taggedLogger(logger, 'admin') })
    : undefined;
const { port } = await proxy.listen();
const adminAddress = await admin?.listen();
send({ type: 'ready', port, adminPort: adminAddress?.port });

process.on('message', (request: ProxyRequest) => {
  if (request.type === 'cpu') {
    const cpu = process.cpuUsage();
    send({ type: 'cpu', cpuMicros: cpu.user + cpu.system });
  } else if (request.type === 'sample') {
    // Measure live memory, not garbage waiting for the next collection.
    globalThis.gc?.();
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    const stats = proxy.stats();
    send({ type: 'sample', rss: memory.rss, heapUsed: memory.heapUsed, cpuMicros: cpu.user + cpu.system, chargers: stats.chargers, keepaliveSockets: stats.keepaliveSockets });
  } else {
    // The CLI's order: the proxy drains first, then the admin listener closes.
    void proxy
      .close()
      .then(() => admin?.close())
      .then(() => process.exit(0));
  }
});

/**
 * The proxy under test, as its own process (so it can be pinned to its own core
 * and measured alone). Config arrives as JSON in argv[2]; it reports through IPC.
 * `--memory-store` gives it the in-memory mirror store instead of the SQLite file
 * in `data_dir` (the reference for what durability costs).
 */
import { parseArgs } from 'node:util';
import { configSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/logging/logger.js';
import { createProxy } from '../../src/proxy.js';
import { MemoryMirrorStore } from '../../src/store/memory-store.js';

export type ProxyRequest = { type: 'sample' } | { type: 'cpu' } | { type: 'close' };
export type ProxyReport =
  | { type: 'ready'; port: number }
  | { type: 'cpu'; cpuMicros: number }
  | { type: 'sample'; rss: number; heapUsed: number; cpuMicros: number; chargers: number; keepaliveSockets: number };

const send = (report: ProxyReport): void => {
  process.send?.(report);
};

const { values: flags, positionals } = parseArgs({ options: { 'memory-store': { type: 'boolean', default: false } }, allowPositionals: true });
const config = configSchema.parse(JSON.parse(positionals[0] ?? '{}'));
const logger = createLogger(config.log_level);
const proxy = createProxy(config, flags['memory-store'] === true ? { logger, store: new MemoryMirrorStore() } : { logger });
const { port } = await proxy.listen();
send({ type: 'ready', port });

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
    void proxy.close().then(() => process.exit(0));
  }
});

/**
 * Benchmark CSMSs in a process of their own (argv[2] = how many; `--record` to
 * keep the CALL ids per charger), so that a direct run crosses a process boundary
 * just as a proxied one does, and so the scale run can spread sockets over
 * processes (`ulimit -n` is per process).
 */
import { parseArgs } from 'node:util';
import { startBenchCsms } from './csms.js';

export type CsmsRequest = { type: 'count' } | { type: 'received' } | { type: 'close' };
export type CsmsReport =
  | { type: 'ready'; urls: string[] }
  | { type: 'count'; connections: number[] }
  | { type: 'received'; callIds: Array<Record<string, string[]>> };

const send = (report: CsmsReport): void => {
  process.send?.(report);
};

const { values: flags, positionals } = parseArgs({ options: { record: { type: 'boolean', default: false } }, allowPositionals: true });
const csmss = await Promise.all(Array.from({ length: Number(positionals[0] ?? 1) }, () => startBenchCsms({ record: flags.record })));
send({ type: 'ready', urls: csmss.map((csms) => csms.url) });
process.on('message', (request: CsmsRequest) => {
  if (request.type === 'count') send({ type: 'count', connections: csmss.map((csms) => csms.connections()) });
  else if (request.type === 'received') send({ type: 'received', callIds: csmss.map((csms) => csms.received()) });
  else void Promise.all(csmss.map((csms) => csms.close())).then(() => process.exit(0));
});

/**
 * Benchmark CSMSs in a process of their own (argv[2] = how many), so that a
 * direct run crosses a process boundary just as a proxied one does, and so the
 * scale run can spread sockets over processes (`ulimit -n` is per process).
 */
import { startBenchCsms } from './csms.js';

const csmss = await Promise.all(Array.from({ length: Number(process.argv[2] ?? 1) }, () => startBenchCsms()));
process.send?.({ type: 'ready', urls: csmss.map((csms) => csms.url) });
process.on('message', (message: { type: string }) => {
  if (message.type === 'count') process.send?.({ type: 'count', connections: csmss.map((csms) => csms.connections()) });
  else void Promise.all(csmss.map((csms) => csms.close())).then(() => process.exit(0));
});

#!/usr/bin/env node
/**
 * `npm run demo` (node dist/demo/main.js): the process around startDemo(). Runs the scenario, then keeps the
 * proxy and the demo CSMSs up for your own charger or simulator until Ctrl-C; `--once` (or DEMO_ONCE=1) exits
 * after the scenario instead: 0 when every check passed, 1 otherwise.
 */
import { parseArgs } from 'node:util';
import { LOG_LEVELS, type LogLevel } from '../config/schema.js';
import { startDemo, DEMO_CHARGER_ID, DEMO_DEFAULT_HOST, type Demo } from './run-demo.js';
import { shouldColor } from './trace.js';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
/** Between steps when a person is watching; none in --once mode, which tests and CI run. */
const INTERACTIVE_PAUSE_MS = 400;

const HELP = `Usage: npm run demo [-- options]     (or: node dist/demo/main.js [options])

Starts ocpp-splitter between a simulated OCPP 1.6 charger and two demo CSMSs (a primary and a
secondary), all on this machine, and prints every frame on every leg while the charger boots, is read
and remote-started by the secondary, authorises and charges.

Options:
  --once               run the scenario once and exit (0 if every check passed)   env DEMO_ONCE=1
  --port N             port of the proxy (default: a free port)
  --host ADDR          address the proxy listens on (default: 127.0.0.1, this machine only);
                       0.0.0.0 to point a real charger on your network at it
  --log-level LEVEL    the proxy's own log lines shown in the trace: ${LOG_LEVELS.join('|')} (default: info)
  -h, --help           show this help
Colours: on when stdout is a terminal; NO_COLOR=1 turns them off, FORCE_COLOR=1 on.
`;

interface DemoArgs {
  once: boolean;
  port: number;
  host: string;
  logLevel: LogLevel;
}

function parseDemoArgs(argv: string[], env: NodeJS.ProcessEnv): DemoArgs | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      once: { type: 'boolean' },
      port: { type: 'string' },
      host: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) return 'help';
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--port: expected an integer from 0 to 65535, got ${values.port}`);
  const host = values.host?.trim() ?? DEMO_DEFAULT_HOST;
  if (host === '') throw new Error('--host: expected an address, e.g. 127.0.0.1 or 0.0.0.0');
  const level = values['log-level'] ?? 'info';
  const logLevel = LOG_LEVELS.find((candidate) => candidate === level);
  if (logLevel === undefined) throw new Error(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, got ${level}`);
  const onceFromEnv = env.DEMO_ONCE !== undefined && env.DEMO_ONCE !== '' && env.DEMO_ONCE !== '0';
  return { once: values.once === true || onceFromEnv, port, host, logLevel };
}

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let args;
  try {
    args = parseDemoArgs(argv, env);
  } catch (error) {
    process.stderr.write(`demo: ${error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)}\n${HELP}`);
    return EXIT_USAGE;
  }
  if (args === 'help') {
    process.stdout.write(HELP);
    return EXIT_OK;
  }

  // After Ctrl-C the trace goes quiet: what the closing sockets say is not part of the story.
  let stopping = false;
  const write = (line: string): void => {
    if (!stopping) process.stdout.write(`${line}\n`);
  };
  /** Set once started; the signal handlers close whatever is running by then. */
  const running: { demo?: Demo } = {};
  const stopped = new Promise<number>((resolve) => {
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      process.stdout.write('\nStopping: closing the charger, the proxy and the demo CSMSs…\n');
      const closed = running.demo?.close() ?? Promise.resolve();
      closed.then(
        () => {
          process.stdout.write('Stopped.\n');
          resolve(EXIT_OK);
        },
        (error: unknown) => {
          process.stderr.write(`demo: could not stop cleanly: ${String(error)}\n`);
          resolve(EXIT_FAILED);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    // `npm run demo | head`: the reader left, so stop as if interrupted instead of dying on EPIPE.
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      stopping = true;
      (running.demo?.close() ?? Promise.resolve()).then(
        () => resolve(EXIT_OK),
        () => resolve(EXIT_FAILED),
      );
    });
  });

  let demo;
  try {
    demo = await startDemo({
      write,
      color: shouldColor(process.stdout, env),
      port: args.port,
      host: args.host,
      logLevel: args.logLevel,
      pauseMs: args.once ? 0 : INTERACTIVE_PAUSE_MS,
    });
  } catch (error) {
    // A port in use or an address that is not this machine's: say which, in one line.
    process.stderr.write(`demo: cannot start on ${args.host}${args.port === 0 ? '' : ` port ${args.port}`}: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_FAILED;
  }
  running.demo = demo;
  if (stopping) return stopped;
  const result = await Promise.race([demo.runScenario(), stopped.then(() => undefined)]);
  if (result === undefined || stopping) return stopped;

  if (args.once) {
    stopping = true;
    await demo.close();
    return result.ok ? EXIT_OK : EXIT_FAILED;
  }
  write('');
  write(`The proxy is still listening on ${demo.proxyUrl}. Point your own OCPP 1.6 charger or simulator at`);
  write(`${demo.proxyUrl}/<charge point id> (any id but ${DEMO_CHARGER_ID}) to see its traffic on every leg.`);
  write('Press Ctrl-C to stop.');
  return stopped;
}

main(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(EXIT_FAILED);
  },
);

/**
 * `npm run demo`: the built demo run as a child process, as `npm run demo -- --once` runs it, and in-process
 * to check every frame the demo peers exchanged against the OCPP 1.6 JSON schemas (ocpp-rpc's, strict).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { MessageType } from '../../src/ocpp/frame.js';
import { startDemo } from '../../src/demo/run-demo.js';
import { frameOf, Trace, type Party, type WireRecord } from '../../src/demo/trace.js';
import { closeAll, connectRawCharger, onCleanup } from '../support/harness.js';

afterEach(closeAll);

const DEMO = new URL('../../dist/demo/main.js', import.meta.url).pathname;
// eslint-disable-next-line no-control-regex -- ANSI colour codes are what this looks for
const ANSI_ESCAPE = /\u001b\[/;

interface DemoRun {
  readonly lines: string[];
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLine(part: string): Promise<string>;
  kill(signal: NodeJS.Signals): void;
}

function runDemo(args: string[], env: Record<string, string> = {}): DemoRun {
  const child = spawn(process.execPath, [DEMO, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines: string[] = [];
  const waiters: Array<{ part: string; resolve: (line: string) => void }> = [];
  const collect = (line: string): void => {
    lines.push(line);
    for (const waiter of waiters.filter((w) => line.includes(w.part))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  };
  createInterface({ input: child.stdout }).on('line', collect);
  createInterface({ input: child.stderr }).on('line', collect);
  const exit = once(child, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return {
    lines,
    exit,
    kill: (signal) => child.kill(signal),
    waitForLine(part) {
      const found = lines.find((line) => line.includes(part));
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ part, resolve }));
    },
  };
}

/** The first trace line on leg `from → to` that shows `message` and contains `text`. */
function legLine(lines: string[], from: string, to: string, message: string, text = ''): string | undefined {
  const leg = new RegExp(`^\\s+${from}\\s+→ ${to}\\s`);
  return lines.find((line) => leg.test(line) && line.includes(message) && line.includes(text));
}

describe('npm run demo -- --once', () => {
  it('shows every step of the scenario on every leg, passes its own checks, and exits 0', async () => {
    const demo = runDemo(['--once']);
    const { code } = await demo.exit;
    const out = demo.lines;
    expect(code, out.join('\n')).toBe(0);

    for (const step of ['1. Boot', '2. The secondary reads the charger (TriggerMessage)', '3. The secondary remote-starts', '4. Authorisation', '5. A short transaction with meter values']) {
      expect(out.some((line) => line.includes(step)), step).toBe(true);
    }
    // Boot: charger → proxy → primary and → secondary, and the primary's answer back.
    expect(legLine(out, 'charger', 'proxy', 'BootNotification.req')).toBeDefined();
    expect(legLine(out, 'proxy', 'primary', 'BootNotification.req')).toBeDefined();
    expect(legLine(out, 'proxy', 'secondary', 'BootNotification.req')).toBeDefined();
    expect(legLine(out, 'proxy', 'charger', 'BootNotification.conf', '"status":"Accepted"')).toBeDefined();
    // Authorisation.
    expect(legLine(out, 'proxy', 'primary', 'Authorize.req', 'DEMO-TAG-1')).toBeDefined();
    // The secondary's TriggerMessage reaches the charger; its RemoteStartTransaction does not, and is accepted.
    expect(legLine(out, 'secondary', 'proxy', 'TriggerMessage.req')).toBeDefined();
    expect(legLine(out, 'proxy', 'charger', 'TriggerMessage.req')).toBeDefined();
    expect(legLine(out, 'proxy', 'secondary', 'TriggerMessage.conf', '"status":"Accepted"')).toBeDefined();
    expect(legLine(out, 'secondary', 'proxy', 'RemoteStartTransaction.req', 'SECONDARY-TAG')).toBeDefined();
    expect(legLine(out, 'proxy', 'secondary', 'RemoteStartTransaction.conf', '"status":"Accepted"')).toBeDefined();
    expect(legLine(out, 'proxy', 'charger', 'RemoteStartTransaction')).toBeUndefined();
    // The transaction: the remote-start idTag and the secondary's own transaction id in what it receives.
    expect(legLine(out, 'proxy', 'primary', 'StartTransaction.req', '"idTag":"DEMO-TAG-1"')).toBeDefined();
    expect(legLine(out, 'proxy', 'secondary', 'StartTransaction.req', '"idTag":"SECONDARY-TAG"')).toBeDefined();
    expect(legLine(out, 'proxy', 'primary', 'MeterValues.req', '"transactionId":1001')).toBeDefined();
    expect(legLine(out, 'proxy', 'secondary', 'MeterValues.req', '"transactionId":5001')).toBeDefined();
    expect(legLine(out, 'proxy', 'secondary', 'StopTransaction.req', '"transactionId":5001')).toBeDefined();
    // The proxy's own log, summarised; checks; the closing line.
    expect(out.some((line) => line.includes('· log') && line.includes('session started'))).toBe(true);
    expect(out.some((line) => line.includes('✗'))).toBe(false);
    expect(out.at(-1)).toMatch(/^Demo complete: (\d+) of \1 checks passed\.$/);
    // Not a terminal: no colour codes.
    expect(out.some((line) => ANSI_ESCAPE.test(line))).toBe(false);
    // For every charger CALL: the primary's leg (the CALL and the answer back to the charger) before the secondary's copy.
    const chargerCalls = out.filter((line) => /^\s+charger\s+→ proxy\s.*\.req\s+\(c-\d+\)/.test(line));
    expect(chargerCalls.length).toBeGreaterThan(10);
    for (const call of chargerCalls) {
      const id = /\((c-\d+)\)/.exec(call)?.[1] ?? '';
      const at = (from: string, to: string): number => out.findIndex((line) => new RegExp(`^\\s+${from}\\s+→ ${to}\\s`).test(line) && line.includes(`(${id})`));
      const [toPrimary, answered, toSecondary, secondaryAnswer] = [at('proxy', 'primary'), at('proxy', 'charger'), at('proxy', 'secondary'), at('secondary', 'proxy')];
      expect(toPrimary, id).toBeGreaterThan(out.indexOf(call));
      expect(answered, id).toBeGreaterThan(toPrimary);
      expect(toSecondary, id).toBeGreaterThan(answered);
      expect(secondaryAnswer, id).toBeGreaterThan(toSecondary);
    }
  });

  it('--host 0.0.0.0 listens on every interface and says so', async () => {
    const demo = runDemo(['--once', '--host', '0.0.0.0']);
    const { code } = await demo.exit;
    expect(code, demo.lines.join('\n')).toBe(0);
    expect(demo.lines.some((line) => /^ {2}proxy {6}ws:\/\/[\d.]+:\d+\/<charge point id> {3}\(all interfaces: chargers on your network connect here\)$/.test(line))).toBe(true);
    expect(demo.lines.at(-1)).toMatch(/^Demo complete/);
  });

  it('DEMO_ONCE=1 does the same; FORCE_COLOR=1 colours the trace', async () => {
    const demo = runDemo([], { DEMO_ONCE: '1', FORCE_COLOR: '1' });
    expect((await demo.exit).code).toBe(0);
    expect(demo.lines.some((line) => ANSI_ESCAPE.test(line))).toBe(true);
    expect(demo.lines.some((line) => line.includes('Demo complete'))).toBe(true);
  });

  it('a bad flag is a usage error', async () => {
    const demo = runDemo(['--twice']);
    expect((await demo.exit).code).toBe(2);
    expect(demo.lines.join('\n')).toContain('--once');
    const noHost = runDemo(['--host', ' ']);
    expect((await noHost.exit).code).toBe(2);
    expect(noHost.lines[0]).toBe('demo: --host: expected an address, e.g. 127.0.0.1 or 0.0.0.0');
  });

  it('an address that is not this machine\'s is one line and exit 1', async () => {
    const demo = runDemo(['--once', '--host', '192.0.2.1']);
    expect((await demo.exit).code).toBe(1);
    expect(demo.lines.at(-1)).toMatch(/^demo: cannot start on 192\.0\.2\.1: .*EADDRNOTAVAIL/);
  });
});

describe('npm run demo (interactive)', () => {
  it('keeps the proxy up after the scenario, and Ctrl-C (SIGINT) stops it cleanly with exit 0', async () => {
    const demo = runDemo([]);
    await demo.waitForLine('Press Ctrl-C to stop.');
    const url = /listening on (ws:\/\/127\.0\.0\.1:\d+)/.exec(demo.lines.join('\n'))?.[1];
    expect(url).toBeDefined();
    demo.kill('SIGINT');
    expect(await demo.exit).toEqual({ code: 0, signal: null });
    expect(demo.lines.at(-1)).toBe('Stopped.');
  });

  it('SIGTERM in the middle of the scenario also stops it with exit 0', async () => {
    const demo = runDemo([]);
    await demo.waitForLine('2. The secondary reads the charger');
    demo.kill('SIGTERM');
    expect((await demo.exit).code, demo.lines.join('\n')).toBe(0);
    expect(demo.lines.at(-1)).toBe('Stopped.');
  });
});

describe('npm run demo -- --host', () => {
  it('listens where told, and a charger of your own connected there shows on every leg', async () => {
    // 127.0.0.2 is loopback on Linux, but not the default 127.0.0.1: only --host can make the proxy answer there.
    const demo = runDemo(['--host', '127.0.0.2']);
    await demo.waitForLine('Press Ctrl-C to stop.');
    const url = /listening on (ws:\/\/127\.0\.0\.2:\d+)\./.exec(demo.lines.join('\n'))?.[1];
    expect(url, demo.lines.join('\n')).toBeDefined();
    const charger = await connectRawCharger(`${String(url)}/MY-CP`);
    charger.socket.send('[2,"mine-1","Heartbeat",{}]');
    await demo.waitForLine('[MY-CP] Heartbeat.conf');
    expect(demo.lines.some((line) => /proxy\s+→ primary\s+\[MY-CP\] Heartbeat\.req/.test(line))).toBe(true);
    demo.kill('SIGINT');
    expect((await demo.exit).code).toBe(0);
  });
});

describe('the trace', () => {
  const record = (from: Party, to: Party, text: string): WireRecord => ({ from, to, identity: 'CP', text, frame: frameOf(text) });

  it('prints the primary\'s leg of a charger CALL before the secondary\'s copy, whichever arrived first', () => {
    const lines: string[] = [];
    const trace = new Trace({ write: (line) => lines.push(line), color: false, mainIdentity: 'CP' });
    trace.frame(record('charger', 'proxy', '[2,"c-1","Heartbeat",{}]'));
    trace.frame(record('proxy', 'secondary', '[2,"c-1","Heartbeat",{}]'));
    trace.frame(record('secondary', 'proxy', '[3,"c-1",{"currentTime":"s"}]'));
    trace.frame(record('secondary', 'proxy', '[2,"s-1","TriggerMessage",{"requestedMessage":"Heartbeat"}]'));
    trace.frame(record('proxy', 'primary', '[2,"c-1","Heartbeat",{}]'));
    trace.frame(record('primary', 'proxy', '[3,"c-1",{"currentTime":"p"}]'));
    trace.frame(record('proxy', 'charger', '[3,"c-1",{"currentTime":"p"}]'));
    const legs = lines.map((line) => line.replace(/\s+/g, ' ').trim().split(' ').slice(0, 5).join(' '));
    expect(legs).toEqual([
      'charger → proxy Heartbeat.req (c-1)',
      // The secondary's own CALL is not a copy: it is not held back.
      'secondary → proxy TriggerMessage.req (s-1)',
      'proxy → primary Heartbeat.req (c-1)',
      'primary → proxy CALLRESULT.conf (c-1)',
      'proxy → charger CALLRESULT.conf (c-1)',
      'proxy → secondary Heartbeat.req (c-1)',
      'secondary → proxy CALLRESULT.conf (c-1)',
    ]);
  });

  it('does not hide the copy for ever when the primary never answers: flush() prints what is held', () => {
    const lines: string[] = [];
    const trace = new Trace({ write: (line) => lines.push(line), color: false });
    trace.frame(record('charger', 'proxy', '[2,"c-9","Heartbeat",{}]'));
    trace.frame(record('proxy', 'secondary', '[2,"c-9","Heartbeat",{}]'));
    expect(lines).toHaveLength(1);
    trace.flush();
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('proxy     → secondary');
    trace.flush();
    expect(lines).toHaveLength(2);
  });
});

describe('the demo peers', () => {
  interface OcppValidator {
    validate(schemaId: string, params: unknown): boolean;
  }
  const require = createRequire(import.meta.url);
  const { createValidator } = require('ocpp-rpc') as { createValidator: (protocol: string, schemas: unknown) => OcppValidator };
  const ocpp16 = createValidator('ocpp1.6', require('ocpp-rpc/lib/schemas/ocpp1_6.json'));

  it('exchange only OCPP 1.6 messages that are valid per the schemas, and leave nothing behind', async () => {
    const lines: string[] = [];
    const demo = await startDemo({ write: (line) => lines.push(line), color: false });
    onCleanup(() => demo.close());
    const result = await demo.runScenario();
    expect(result.ok, lines.join('\n')).toBe(true);

    let checked = 0;
    for (const record of demo.wire) {
      const frame = record.frame;
      expect(frame, record.text).toBeDefined();
      if (frame === undefined) continue;
      if (frame.type === MessageType.Call) {
        expect(() => ocpp16.validate(`urn:${frame.action}.req`, frame.payload), record.text).not.toThrow();
        checked += 1;
      } else if (frame.type === MessageType.CallResult) {
        expect(record.answers, record.text).toBeDefined();
        expect(() => ocpp16.validate(`urn:${String(record.answers)}.conf`, frame.payload), record.text).not.toThrow();
        checked += 1;
      }
    }
    expect(checked).toBe(demo.wire.length);
    expect(checked).toBeGreaterThan(50);

    await demo.close();
    expect(demo.proxy.stats().chargers).toBe(0);
    expect(existsSync(demo.config.data_dir)).toBe(false);
  });
});

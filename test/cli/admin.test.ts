/**
 * The admin listener as the CLI runs it: opened beside the chargers' port, explained when it cannot be,
 * and refused at start-up when it would be open to the network without a token.
 */
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { closeAll, connectRawCharger, freePort, onCleanup, startRawCsms, temporaryDirectory } from '../support/harness.js';

afterEach(closeAll);

const NO_FILE_ENV = { CONFIG_FILE: '' };
const TOKEN = 'cli-test-token-0123456789';

describe('the admin listener of the CLI', () => {
  it('opens on admin_port with a token from a file, serves the API and metrics, and never logs the token', async () => {
    const csms = await startRawCsms();
    const adminPort = await freePort();
    const tokenFile = join(temporaryDirectory(), 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const proxy = runCli(['--admin-port', String(adminPort), '--admin-token-file', tokenFile], { ...NO_FILE_ENV, PORT: '0', PRIMARY_CSMS_URL: csms.url, ADMIN_PORT: '' });
    const ready = await proxy.waitForLine('admin listener ready (dashboard, /api, /metrics)');
    expect(ready).toMatchObject({ admin_port: adminPort, admin_host: '127.0.0.1', token: true });
    const listening = await proxy.waitForLine('proxy listening');
    await connectRawCharger(`ws://127.0.0.1:${String(listening.port)}/CP-CLI`);
    await csms.nextPeer();
    const headers = { Authorization: `Bearer ${TOKEN}` };
    const chargers = (await (await fetch(`http://127.0.0.1:${adminPort}/api/chargers`, { headers })).json()) as Array<{ id: string }>;
    expect(chargers.map((charger) => charger.id)).toEqual(['CP-CLI']);
    const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`, { headers })).text();
    expect(metrics).toMatch(/^ocpp_splitter_chargers_connected 1$/m);
    expect((await fetch(`http://127.0.0.1:${adminPort}/api/status`)).status).toBe(401);
    proxy.child.kill('SIGTERM');
    expect((await proxy.exit).code).toBe(0);
    expect(proxy.lines.map((line) => JSON.stringify(line)).join('\n') + proxy.stderr()).not.toContain(TOKEN);
  });

  it('says which port is taken and how to fix it, exit 78, and leaves no charger port open', async () => {
    const csms = await startRawCsms();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    onCleanup(() => blocker.close());
    const taken = (blocker.address() as { port: number }).port;
    const proxy = runCli([], { ...NO_FILE_ENV, PORT: '0', PRIMARY_CSMS_URL: csms.url, ADMIN_PORT: String(taken) });
    expect((await proxy.exit).code).toBe(78);
    expect(proxy.stderr().trim()).toBe(
      `ocpp-splitter: cannot open the admin listener on 127.0.0.1 port ${taken}: another program is using it (EADDRINUSE). Stop it, or set admin_port (ADMIN_PORT, --admin-port) to a free port, or 0 to turn the admin listener off`,
    );
  });

  it('refuses to open it to the network without a token', async () => {
    const proxy = runCli([], { ...NO_FILE_ENV, PORT: '0', PRIMARY_CSMS_URL: 'ws://127.0.0.1:1/ocpp', ADMIN_PORT: '9001', ADMIN_HOST: '0.0.0.0' });
    expect((await proxy.exit).code).toBe(78);
    expect(proxy.stderr().trim()).toBe(
      'ocpp-splitter: ADMIN_HOST is "0.0.0.0", not a loopback address: set admin_token (or ADMIN_TOKEN, admin_token_file) so that only you can use the admin listener, or set admin_port to 0 to turn it off',
    );
  });
});

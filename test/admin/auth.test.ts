/**
 * Who may use the admin listener: the Bearer token, trusted addresses (Home Assistant ingress), loopback
 * without a token only under a loopback Host name (DNS rebinding), and no cross-site POSTs (CSRF).
 */
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, startAdmin, startProxy, startRawCsms, type StartedAdmin } from '../support/harness.js';

afterEach(closeAll);

const TOKEN = 'correct-horse-battery-staple';

interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A request with exactly these headers (fetch would not let a test set Host or Origin freely). */
function raw(admin: StartedAdmin, method: string, path: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: admin.port, method, path, headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function adminWith(overrides: Record<string, unknown>): Promise<{ admin: StartedAdmin; logs: () => string }> {
  const primary = await startRawCsms();
  const started = await startProxy(primary.url, { secondary_csms: [{ url: 'ws://127.0.0.1:9/x', name: 'energy' }] });
  const admin = await startAdmin(started, overrides);
  return { admin, logs: () => started.logs.lines.map((line) => JSON.stringify(line)).join('\n') };
}

describe('admin_token', () => {
  it('asks every API and metrics request for the token, compared in full', async () => {
    const { admin, logs } = await adminWith({ admin_token: TOKEN });
    for (const path of ['/api/status', '/api/chargers', '/metrics', '/api/events']) {
      const refused = await raw(admin, 'GET', path);
      expect(refused.status, path).toBe(401);
      expect(refused.headers['www-authenticate']).toBe('Bearer realm="ocpp-splitter"');
      expect(JSON.parse(refused.body)).toEqual({ error: 'a valid Bearer token is required (admin_token)' });
    }
    expect((await raw(admin, 'GET', '/api/status', { Authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    expect((await raw(admin, 'GET', '/api/status', { Authorization: `Bearer ${TOKEN.slice(0, -1)}` })).status).toBe(401);
    expect((await raw(admin, 'GET', '/api/status', { Authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` })).status).toBe(401);
    expect((await raw(admin, 'POST', '/api/secondaries/energy/pause')).status).toBe(401);
    expect((await raw(admin, 'GET', '/api/status', { Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await raw(admin, 'GET', '/metrics', { Authorization: `bearer ${TOKEN}` })).status).toBe(200);
    // A token does not need a loopback Host: the token is the proof.
    expect((await raw(admin, 'GET', '/api/status', { Authorization: `Bearer ${TOKEN}`, Host: 'proxy.example.com:9001' })).status).toBe(200);
    expect(logs()).not.toContain(TOKEN);
  });

  it('serves the dashboard\'s files without a token: they hold no data', async () => {
    const { admin } = await adminWith({ admin_token: TOKEN });
    expect([200, 503]).toContain((await raw(admin, 'GET', '/')).status);
  });
});

describe('admin_trusted_addresses', () => {
  it('serves a trusted peer without a token (Home Assistant ingress), others still need it', async () => {
    const { admin } = await adminWith({ admin_token: TOKEN, admin_trusted_addresses: ['127.0.0.1'] });
    expect((await raw(admin, 'GET', '/api/status', { Host: 'a0d7b954-ocpp-splitter:9001' })).status).toBe(200);
    expect((await raw(admin, 'POST', '/api/secondaries/energy/pause', { Origin: 'http://homeassistant.local:8123' })).status).toBe(200);
    // The browser's own verdict still counts behind the ingress proxy.
    expect((await raw(admin, 'POST', '/api/secondaries/energy/resume', { 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    const other = await adminWith({ admin_token: TOKEN, admin_trusted_addresses: ['172.30.32.2'] });
    expect((await raw(other.admin, 'GET', '/api/status')).status).toBe(401);
  });
});

describe('without a token (loopback only)', () => {
  it('refuses a Host that does not name this machine: a DNS-rebinding page', async () => {
    const { admin } = await adminWith({});
    expect((await raw(admin, 'GET', '/api/status', { Host: `localhost:${admin.port}` })).status).toBe(200);
    expect((await raw(admin, 'GET', '/api/status', { Host: `127.0.0.1:${admin.port}` })).status).toBe(200);
    expect((await raw(admin, 'GET', '/api/status', { Host: `[::1]:${admin.port}` })).status).toBe(200);
    const rebound = await raw(admin, 'GET', '/api/status', { Host: `attacker.example:${admin.port}` });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body)).toEqual({ error: 'the Host header must name this machine (localhost, 127.0.0.1 or ::1)' });
  });

  it('refuses a POST from another site (CSRF) and takes one from curl or the dashboard itself', async () => {
    const { admin } = await adminWith({});
    const host = `127.0.0.1:${admin.port}`;
    expect((await raw(admin, 'POST', '/api/secondaries/energy/pause', { Host: host, Origin: 'http://attacker.example' })).status).toBe(403);
    expect((await raw(admin, 'POST', '/api/secondaries/energy/pause', { Host: host, 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect((await raw(admin, 'POST', '/api/secondaries/energy/pause', { Host: host, Origin: 'null' })).status).toBe(403);
    expect((await raw(admin, 'POST', '/api/secondaries/energy/pause', { Host: host })).status).toBe(200);
    expect((await raw(admin, 'POST', '/api/secondaries/energy/resume', { Host: host, Origin: `http://${host}` })).status).toBe(200);
  });
});

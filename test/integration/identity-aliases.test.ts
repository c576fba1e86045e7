/**
 * Issue 11, finding 3: the id was checked after percent-decoding but sent upstream raw, so `%43P-1` replaced a
 * live `CP-1` session and wrote into its outbox, and `/ocpp/tenant7/..` made the primary URL climb a level.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  answers16,
  closeAll,
  connectRawCharger,
  exchange,
  ocpp16,
  onCleanup,
  receivedTexts,
  roundTrip,
  startProxy,
  startRawCsms,
  upgradeStatus,
} from '../support/harness.js';

afterEach(closeAll);

/** The status line the proxy answers a raw upgrade request for `path` with (no client normalises the path). */
async function rawUpgradeStatus(port: number, path: string): Promise<string> {
  const socket: Socket = connect({ port, host: '127.0.0.1' });
  onCleanup(() => socket.destroy());
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n',
  );
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
  await once(socket, 'close');
  return text.split('\r\n', 1)[0] ?? '';
}

describe('one identity per charger', () => {
  it('%43P-1 can neither replace a live CP-1 session nor write into its outbox', async () => {
    const primary = await startRawCsms({ answer: answers16(1) });
    const secondary = await startRawCsms({ answer: answers16(2) });
    const { url, proxy, logs } = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url }] });
    const charger = await connectRawCharger(url('/ocpp/CP-1'));
    await logs.waitFor('session started');
    const session = proxy.sessions.get('CP-1');

    expect((await upgradeStatus(url('/ocpp/%43P-1'))).status).toBe(400);
    expect(await logs.waitFor('charger refused')).toMatchObject({ status: 400, path: '/ocpp/%43P-1', reason: expect.stringContaining('%43') as unknown });
    expect(logs.lines.some((line) => line.msg === 'charge point id already connected: the older connection is replaced')).toBe(false);

    // CP-1 is untouched: same session, its primary link still the only one, and only its own messages mirrored.
    expect(proxy.sessions.get('CP-1')).toBe(session);
    await exchange(charger, ocpp16.heartbeat('own-1'));
    await roundTrip(charger);
    expect(primary.requests.map((request) => request.url)).toEqual(['/ocpp/CP-1']);
    await expect.poll(() => receivedTexts(secondary)).toContain(ocpp16.heartbeat('own-1').text);
    expect(secondary.requests.map((request) => request.url)).toEqual(['/ocpp/CP-1']);
    expect(receivedTexts(secondary).filter((text) => !text.includes('"own-1"'))).toEqual([]);
  });

  it.each(['/ocpp/tenant7/..', '/ocpp/tenant7/%2e%2e', '/ocpp/tenant7/.%2E', '/ocpp/tenant7/.'])(
    '%s cannot make the primary URL climb: 400, and the primary is never dialled',
    async (path) => {
      const primary = await startRawCsms();
      const { port } = await startProxy(`ws://127.0.0.1:${primary.port}/ocpp/tenant7`);
      expect(await rawUpgradeStatus(port, path)).toBe('HTTP/1.1 400 Bad Request');
      expect(primary.requests).toHaveLength(0);
    },
  );
});

/**
 * The classic proxy bug: frames sent right after the 101 (BootNotification!)
 * dropped while the primary connects. Here 20 chargers connect at once and send
 * BootNotification the instant their socket opens; a strict ocpp-rpc CSMS must
 * answer every one.
 */
import { afterEach, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { closeAll, onCleanup, recordPeer, startProxy, startRpcCsms } from '../support/harness.js';

afterEach(closeAll);

it('20 chargers booting the instant they connect are all answered', async () => {
  const csms = await startRpcCsms(['ocpp1.6']);
  csms.server.on('client', (client: { handle: (method: string, handler: () => unknown) => void }) => {
    client.handle('BootNotification', () => ({ status: 'Accepted', currentTime: new Date().toISOString(), interval: 60 }));
  });
  const { url } = await startProxy(csms.url, { log_level: 'info' });

  const answers = await Promise.all(
    Array.from({ length: 20 }, async (_, n) => {
      const socket = new WebSocket(url(`/CP-RACE-${n}`), ['ocpp1.6']);
      onCleanup(() => socket.terminate());
      const peer = recordPeer(socket);
      socket.on('open', () => {
        socket.send(JSON.stringify([2, `boot-${n}`, 'BootNotification', { chargePointVendor: 'Acme', chargePointModel: `M${n}` }]));
      });
      return JSON.parse((await peer.nextFrame()).data.toString()) as unknown[];
    }),
  );
  answers.forEach((answer, n) => {
    expect(answer[0]).toBe(3);
    expect(answer[1]).toBe(`boot-${n}`);
    expect(answer[2]).toMatchObject({ status: 'Accepted', interval: 60 });
  });
  expect(csms.clients).toHaveLength(20);
});

/**
 * Transparent forwarding: every frame, both ways, byte for byte — including
 * frames that are not valid OCPP, which the receiving end must judge, not us.
 */
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { RPCServer } from 'ocpp-rpc';
import { connect as tcpConnect } from 'node:net';
import { closeAll, connectRawCharger, maskedTextFrame, onCleanup, recordPeer, startProxy, startRawCsms } from '../support/harness.js';

afterEach(closeAll);

/** Frames whose exact bytes a re-serialising proxy would change. */
const UNUSUAL_BUT_VALID = [
  '[2, "a1" ,"Heartbeat",{ }]',
  '[2,"m2","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2026-01-01T00:00:00Z","sampledValue":[{"value":"1.50","format":"SignedData"}]}],"z":1,"a":2}]',
  '[2,"u3","DataTransfer",{"vendorId":"ÄÖÜ-€-漢字-🚗","data":"\\u00e9\\n"}]',
  '\t[3 ,\n"id4", {"currentTime":"2026-01-01T00:00:00.000Z", "interval":3e2}]',
];
const NOT_OCPP = ['hello', '{"not":"an array"}', '[9,"x"]', '[2,"no-payload","Heartbeat"]', ''];

describe('charger → primary', () => {
  it('delivers every text frame byte for byte, valid OCPP or not', async () => {
    const csms = await startRawCsms();
    const { url } = await startProxy(csms.url);
    const charger = await connectRawCharger(url('/CP-BYTES'));
    const primary = await csms.nextPeer();
    for (const frame of [...UNUSUAL_BUT_VALID, ...NOT_OCPP]) charger.socket.send(frame);
    for (const frame of [...UNUSUAL_BUT_VALID, ...NOT_OCPP]) {
      const received = await primary.nextFrame();
      expect(received.isBinary).toBe(false);
      expect(received.data.toString('utf8')).toBe(frame);
    }
  });

  it('delivers binary frames as binary', async () => {
    const csms = await startRawCsms();
    const { url } = await startProxy(csms.url);
    const charger = await connectRawCharger(url('/CP-BIN'));
    const primary = await csms.nextPeer();
    const payload = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80]);
    charger.socket.send(payload);
    const received = await primary.nextFrame();
    expect(received.isBinary).toBe(true);
    expect(Buffer.compare(received.data, payload)).toBe(0);
  });

  it('loses nothing sent the instant the charger’s socket opens', async () => {
    const csms = await startRawCsms();
    const { url } = await startProxy(csms.url);
    const socket = new WebSocket(url('/CP-EAGER'), ['ocpp1.6']);
    onCleanup(() => socket.terminate());
    const frames = Array.from({ length: 50 }, (_, i) => `[2,"boot-${i}","Heartbeat",{}]`);
    socket.on('open', () => {
      for (const frame of frames) socket.send(frame);
    });
    const primary = await csms.nextPeer();
    for (const frame of frames) expect((await primary.nextFrame()).data.toString()).toBe(frame);
  });
  it('keeps even frames an eager charger sends before its 101, in the request’s packet or while the primary decides', async () => {
    let release!: () => void;
    const csms = await startRawCsms({ holdUpgrade: new Promise<void>((resolve) => (release = resolve)) });
    const { port, proxy } = await startProxy(csms.url);
    const socket = tcpConnect(port, '127.0.0.1');
    onCleanup(() => socket.destroy());
    await once(socket, 'connect');
    const first = '[2,"with-request","BootNotification",{"chargePointVendor":"A","chargePointModel":"B"}]';
    const second = '[2,"while-dialling","Heartbeat",{}]';
    socket.write(
      Buffer.concat([
        Buffer.from(
          'GET /CP-HASTY HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
            'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n',
        ),
        maskedTextFrame(first),
      ]),
    );
    await expect.poll(() => proxy.stats().pendingHandshakes).toBe(1);
    socket.write(maskedTextFrame(second));
    // Let the proxy read the second packet while the primary still holds its answer.
    await new Promise((resolve) => setImmediate(resolve));
    release();
    const primary = await csms.nextPeer();
    expect((await primary.nextFrame()).data.toString()).toBe(first);
    expect((await primary.nextFrame()).data.toString()).toBe(second);
  });
});

describe('primary → charger', () => {
  it('delivers every frame byte for byte, including binary and garbage', async () => {
    const csms = await startRawCsms();
    const { url } = await startProxy(csms.url);
    const charger = await connectRawCharger(url('/CP-DOWNSTREAM'));
    const primary = await csms.nextPeer();
    for (const frame of [...UNUSUAL_BUT_VALID, ...NOT_OCPP]) primary.socket.send(frame);
    primary.socket.send(Buffer.from([7, 7, 7]));
    for (const frame of [...UNUSUAL_BUT_VALID, ...NOT_OCPP]) {
      const received = await charger.nextFrame();
      expect(received.isBinary).toBe(false);
      expect(received.data.toString('utf8')).toBe(frame);
    }
    const binary = await charger.nextFrame();
    expect(binary.isBinary).toBe(true);
    expect([...binary.data]).toEqual([7, 7, 7]);
  });

  it('loses nothing the primary sends before the charger’s upgrade has completed', async () => {
    const greeting = ['[2,"early-1","GetConfiguration",{}]', '[2,"early-2","TriggerMessage",{"requestedMessage":"Heartbeat"}]'];
    const csms = await startRawCsms({ greet: greeting });
    const { url } = await startProxy(csms.url);
    const charger = await connectRawCharger(url('/CP-GREETED'));
    expect((await charger.nextFrame()).data.toString()).toBe(greeting[0]);
    expect((await charger.nextFrame()).data.toString()).toBe(greeting[1]);
  });
});

describe('permessage-deflate', () => {
  it('is negotiated with the charger (required of a CSMS by OCPP 2.0.1) and frames still arrive intact', async () => {
    const csms = await startRawCsms();
    const { url } = await startProxy(csms.url);
    const socket = new WebSocket(url('/CP-DEFLATE'), ['ocpp2.0.1'], { perMessageDeflate: { threshold: 0 } });
    onCleanup(() => socket.terminate());
    const charger = recordPeer(socket);
    let extensions: string | undefined;
    // 'upgrade' and 'open' fire in the same tick: listen before awaiting either.
    socket.once('upgrade', (response: IncomingMessage) => {
      extensions = response.headers['sec-websocket-extensions'];
    });
    await once(socket, 'open');
    expect(extensions).toMatch(/permessage-deflate/);
    const primary = await csms.nextPeer();
    const big = `[2,"d1","DataTransfer",{"vendorId":"x","data":"${'A'.repeat(5000)}"}]`;
    socket.send(big);
    expect((await primary.nextFrame()).data.toString()).toBe(big);
    primary.socket.send(big);
    expect((await charger.nextFrame()).data.toString()).toBe(big);
  });
});

describe('with ocpp-rpc as a strict CSMS', () => {
  it('the CSMS answers a malformed frame itself, and the answer reaches the charger', async () => {
    const server = new RPCServer({ protocols: ['ocpp1.6'], strictMode: true });
    const http = await server.listen(0, '127.0.0.1');
    onCleanup(() => server.close({ force: true }));
    const port = (http.address() as AddressInfo).port;
    const { url } = await startProxy(`ws://127.0.0.1:${port}`);
    const charger = await connectRawCharger(url('/CP-MALFORMED'));
    charger.socket.send('[2,"bad-1","BootNotification",{"chargePointVendor":42}]');
    const answer = JSON.parse((await charger.nextFrame()).data.toString()) as unknown[];
    expect(answer[0]).toBe(4);
    expect(answer[1]).toBe('bad-1');
  });
});

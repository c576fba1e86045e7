/**
 * Bad input closes at most the offending connection; every other charger keeps
 * being served. Each case checks a bystander session still works afterwards.
 */
import { once } from 'node:events';
import { connect as tcpConnect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connectRawCharger, onCleanup, startProxy, startRawCsms, type RawCsms, type RawPeer } from '../support/harness.js';

afterEach(closeAll);

async function bystander(url: (path: string) => string, csms: RawCsms): Promise<{ charger: RawPeer; primary: RawPeer }> {
  const charger = await connectRawCharger(url('/CP-BYSTANDER'));
  const primary = await csms.nextPeer();
  return { charger, primary };
}

async function stillServed({ charger, primary }: { charger: RawPeer; primary: RawPeer }): Promise<void> {
  charger.socket.send('[2,"alive","Heartbeat",{}]');
  expect((await primary.nextFrame()).data.toString()).toBe('[2,"alive","Heartbeat",{}]');
  primary.socket.send('[3,"alive",{"currentTime":"2026-01-01T00:00:00Z"}]');
  expect((await charger.nextFrame()).data.toString()).toBe('[3,"alive",{"currentTime":"2026-01-01T00:00:00Z"}]');
}

/** Opens a raw TCP connection and completes a WebSocket upgrade by hand. */
async function rawUpgrade(port: number, path: string, expectProtocol = true): Promise<Socket> {
  const socket = tcpConnect(port, '127.0.0.1');
  onCleanup(() => socket.destroy());
  await once(socket, 'connect');
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n',
  );
  let head = '';
  while (!head.includes('\r\n\r\n')) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    head += chunk.toString('latin1');
  }
  expect(head.startsWith('HTTP/1.1 101')).toBe(true);
  expect(/sec-websocket-protocol: ocpp1\.6/i.test(head)).toBe(expectProtocol);
  return socket;
}

/** A masked client text frame header announcing `length` bytes (RFC 6455 §5.2), 16-bit length form. */
function maskedFrameHeader(length: number): Buffer {
  return Buffer.from([0x81, 0x80 | 126, (length >> 8) & 0xff, length & 0xff, 1, 2, 3, 4]);
}

describe('bad input from a charger', () => {
  it('an oversized frame closes only that charger, with 1009', async () => {
    const csms = await startRawCsms();
    const { url, logs } = await startProxy(csms.url, { max_message_size_bytes: 4096 });
    const other = await bystander(url, csms);
    const offender = await connectRawCharger(url('/CP-BIG'));
    const offenderPrimary = await csms.nextPeer();
    offender.socket.send(`[2,"big","DataTransfer",{"vendorId":"x","data":"${'x'.repeat(5000)}"}]`);
    expect((await offender.closed).code).toBe(1009);
    expect((await offenderPrimary.closed).code).toBe(1001);
    expect(offenderPrimary.frames).toHaveLength(0);
    await logs.waitFor('websocket error, closing that leg', (line) => line.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
    await stillServed(other);
  });

  it('invalid UTF-8 in a text frame closes only that charger, with 1007', async () => {
    const csms = await startRawCsms();
    const { url, port } = await startProxy(csms.url);
    const other = await bystander(url, csms);
    const socket = await rawUpgrade(port, '/CP-UTF8');
    const primary = await csms.nextPeer();
    const payload = Buffer.from([0xc3, 0x28]); // an invalid two-byte sequence
    const mask = [9, 8, 7, 6];
    socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, ...mask]), Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))]));
    await once(socket, 'close');
    expect((await primary.closed).code).toBe(1001);
    await stillServed(other);
  });

  it('a charger that disappears mid-frame ends its session and nothing else', async () => {
    const csms = await startRawCsms();
    const { url, port, proxy } = await startProxy(csms.url);
    const other = await bystander(url, csms);
    const socket = await rawUpgrade(port, '/CP-HALF');
    const primary = await csms.nextPeer();
    socket.write(Buffer.concat([maskedFrameHeader(1000), Buffer.alloc(100, 0x41)])); // 100 of 1000 bytes
    socket.destroy();
    expect((await primary.closed).code).toBe(1001);
    expect(primary.frames).toHaveLength(0);
    await expect.poll(() => proxy.sessions.size).toBe(1);
    await stillServed(other);
  });

  it('garbage instead of an HTTP request gets a 400 and nothing else happens', async () => {
    const csms = await startRawCsms();
    const { url, port } = await startProxy(csms.url);
    const other = await bystander(url, csms);
    const socket = tcpConnect(port, '127.0.0.1');
    onCleanup(() => socket.destroy());
    await once(socket, 'connect');
    socket.write('\x00\x01\x02 this is not http\r\n\r\n');
    const [answer] = (await once(socket, 'data')) as [Buffer];
    expect(answer.toString('latin1')).toMatch(/^HTTP\/1\.1 400/);
    await stillServed(other);
  });

  it('a truncated upgrade request that then disconnects costs nothing', async () => {
    const csms = await startRawCsms();
    const { url, port, proxy } = await startProxy(csms.url);
    const other = await bystander(url, csms);
    const socket = tcpConnect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /CP-TRUNC HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: webs');
    socket.destroy();
    await stillServed(other);
    expect(proxy.stats()).toMatchObject({ chargers: 1, pendingHandshakes: 0 });
    expect(csms.requests).toHaveLength(1);
  });
});

describe('regressions found in review', () => {
  it('garbage from a charger refused for want of a common sub-protocol cannot crash the proxy', async () => {
    const noProtocol = await startRawCsms({ handleProtocols: () => false });
    const csms = await startRawCsms();
    const { port, url } = await startProxy(noProtocol.url);
    const other = await startProxy(csms.url);
    const bystanderCharger = await connectRawCharger(other.url('/CP-OK'));
    const socket = await rawUpgrade(port, '/CP-NOPROTO', false);
    socket.write(Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0xc3, 0x28])); // invalid UTF-8
    await once(socket, 'close');
    // The proxy process is still alive and serving: another upgrade on the same proxy answers.
    expect((await fetch(url('/healthz').replace('ws:', 'http:'))).status).toBe(200);
    bystanderCharger.socket.send('[2,"x","Heartbeat",{}]');
    expect((await (await csms.nextPeer()).nextFrame()).data.toString()).toBe('[2,"x","Heartbeat",{}]');
  });

  it('an upgrade the WebSocket layer refuses (bad extension header) does not leave a primary connection behind', async () => {
    const csms = await startRawCsms();
    const { port, proxy } = await startProxy(csms.url);
    const socket = tcpConnect(port, '127.0.0.1');
    onCleanup(() => socket.destroy());
    await once(socket, 'connect');
    socket.write(
      'GET /CP-EXT HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: ocpp1.6\r\n' +
        'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=99\r\n\r\n',
    );
    const [answer] = (await once(socket, 'data')) as [Buffer];
    expect(answer.toString('latin1')).toMatch(/^HTTP\/1\.1 400/);
    await expect.poll(() => csms.wss.clients.size).toBe(0);
    expect(proxy.stats()).toMatchObject({ chargers: 0, pendingHandshakes: 0 });
  });
});

describe('bytes before the 101', () => {
  it('a charger flooding the proxy before its 101 is dropped once it exceeds one frame’s worth', async () => {
    const csms = await startRawCsms({ holdUpgrade: new Promise<void>(() => {}) });
    const { port, proxy, logs } = await startProxy(csms.url, { max_message_size_bytes: 4096 });
    const socket = tcpConnect(port, '127.0.0.1');
    onCleanup(() => socket.destroy());
    await once(socket, 'connect');
    socket.write(
      'GET /CP-FLOOD HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n',
    );
    await expect.poll(() => proxy.stats().pendingHandshakes).toBe(1);
    socket.on('error', () => {
      // The proxy resets the connection while we are still writing.
    });
    // Not events.once: it would reject on the reset this test provokes.
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    for (let i = 0; i < 64 && !socket.destroyed; i += 1) socket.write(Buffer.alloc(16 * 1024, 0x41));
    await closed;
    await expect.poll(() => proxy.stats().pendingHandshakes).toBe(0);
    await logs.waitFor('charger left before the primary answered');
  });
});

describe('bad input from the primary', () => {
  it('garbage from the primary is forwarded to the charger, which judges it', async () => {
    const csms = await startRawCsms();
    const { url } = await startProxy(csms.url);
    const charger = await connectRawCharger(url('/CP-G'));
    const primary = await csms.nextPeer();
    primary.socket.send('}}}not json at all{{{');
    expect((await charger.nextFrame()).data.toString()).toBe('}}}not json at all{{{');
  });

  it('an oversized frame from the primary closes that primary link with 1009 and its charger, nobody else', async () => {
    const csms = await startRawCsms();
    const { url } = await startProxy(csms.url, { max_message_size_bytes: 4096 });
    const other = await bystander(url, csms);
    const charger = await connectRawCharger(url('/CP-PBIG'));
    const primary = await csms.nextPeer();
    primary.socket.send('x'.repeat(5000));
    expect((await primary.closed).code).toBe(1009);
    expect((await charger.closed).code).toBe(1011);
    await stillServed(other);
  });
});

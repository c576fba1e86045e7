/** Handshakes for admission tests: a real IncomingMessage over an unconnected socket, a PassThrough as the charger. */
import { IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { vi, type Mock } from 'vitest';
import type { WebSocket } from 'ws';
import { Handshake, type HandshakeOptions } from '../../src/admission/handshake.js';

export const VALID_UPGRADE_HEADERS: IncomingHttpHeaders = {
  upgrade: 'websocket',
  connection: 'Upgrade',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'sec-websocket-version': '13',
  'sec-websocket-protocol': 'ocpp2.0.1, ocpp1.6',
};

export interface FakeRequest {
  readonly method?: string;
  readonly url?: string;
  readonly headers?: IncomingHttpHeaders;
  readonly remoteAddress?: string;
}

export function fakeRequest({ method = 'GET', url = '/ocpp/CP-1', headers = VALID_UPGRADE_HEADERS, remoteAddress }: FakeRequest = {}): IncomingMessage {
  const tcp = new Socket();
  if (remoteAddress !== undefined) Object.defineProperty(tcp, 'remoteAddress', { value: remoteAddress });
  const request = new IncomingMessage(tcp);
  request.method = method;
  request.url = url;
  request.headers = headers;
  return request;
}

/** A handshake and its charger socket, which the test writes to, ends or destroys as the charger would. */
export function fakeHandshake(
  request: FakeRequest = {},
  head: Buffer = Buffer.alloc(0),
  options: HandshakeOptions = {},
): { handshake: Handshake; socket: PassThrough } {
  const socket = new PassThrough();
  return { handshake: new Handshake(fakeRequest(request), socket, head, options), socket };
}

/** Stands in for the primary's socket: steps only hand it on, or terminate it. */
export function fakePrimarySocket(): { socket: WebSocket; terminate: Mock<() => void> } {
  const terminate = vi.fn<() => void>();
  return { socket: { terminate } as unknown as WebSocket, terminate };
}

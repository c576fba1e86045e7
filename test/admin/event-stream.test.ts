/**
 * EventStreams without sockets: a client that reads slower than events arrive loses events (counted and told),
 * never making the proxy buffer them; every stream ends with the server.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { EventStreams, MAX_BUFFERED_BYTES, type StreamEvent } from '../../src/admin/event-stream.js';

class FakeResponse extends EventEmitter {
  written: string[] = [];
  writableLength = 0;
  ended = false;
  writeHead(): this {
    return this;
  }
  write(chunk: string): boolean {
    this.written.push(chunk);
    return true;
  }
  end(): void {
    this.ended = true;
  }
}

function streams(): { streams: EventStreams; emit: (event: StreamEvent) => void; subscribers: () => number } {
  const listeners = new Set<(event: StreamEvent) => void>();
  const source = (_filter: unknown, listener: (event: StreamEvent) => void): (() => void) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };
  return { streams: new EventStreams(source), emit: (event) => listeners.forEach((listener) => listener(event)), subscribers: () => listeners.size };
}

const FRAME: StreamEvent = { event: 'frame', data: { message_id: 'm' } };

describe('EventStreams', () => {
  it('drops events while the client is behind, then says how many were dropped', () => {
    const { streams: s, emit } = streams();
    const request = new EventEmitter() as IncomingMessage;
    const response = new FakeResponse();
    expect(s.open(request, response as unknown as ServerResponse, {})).toBe(true);
    emit(FRAME);
    expect(response.written.at(-1)).toBe('event: frame\ndata: {"message_id":"m"}\n\n');
    response.writableLength = MAX_BUFFERED_BYTES + 1;
    const before = response.written.length;
    for (let i = 0; i < 100; i++) emit(FRAME);
    expect(response.written.length).toBe(before);
    response.writableLength = 0;
    emit(FRAME);
    expect(response.written.slice(-2)).toEqual(['event: dropped\ndata: {"count":100}\n\n', 'event: frame\ndata: {"message_id":"m"}\n\n']);
  });

  it('unsubscribes when the client goes, and ends every stream on close()', () => {
    const { streams: s, subscribers } = streams();
    const first = new FakeResponse();
    const firstRequest = new EventEmitter() as IncomingMessage;
    s.open(firstRequest, first as unknown as ServerResponse, {});
    const second = new FakeResponse();
    s.open(new EventEmitter() as IncomingMessage, second as unknown as ServerResponse, {});
    expect(subscribers()).toBe(2);
    firstRequest.emit('close');
    expect(subscribers()).toBe(1);
    expect(s.size).toBe(1);
    s.close();
    expect(subscribers()).toBe(0);
    expect(second.ended).toBe(true);
  });
});

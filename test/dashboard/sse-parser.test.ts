import { describe, expect, it } from 'vitest';
import { SseParser } from '../../dashboard/src/sse-parser.js';

describe('SseParser', () => {
  it('reads named events, joins data lines, skips comments (the keepalive)', () => {
    const parser = new SseParser();
    const events = parser.push(': keepalive\n\nevent: frame\ndata: {"a":1}\n\ndata: one\ndata: two\nid: 7\n\n');
    expect(events).toEqual([
      { event: 'frame', data: '{"a":1}', id: undefined },
      { event: 'message', data: 'one\ntwo', id: '7' },
    ]);
  });

  it('returns nothing until the blank line, whatever the chunking, CRLF split across chunks included', () => {
    const text = 'event: link\r\ndata: {"state":"open"}\r\n\r\nevent: session\rdata:x\r\r\n';
    for (let size = 1; size <= text.length; size += 1) {
      const parser = new SseParser();
      const events = [];
      for (let i = 0; i < text.length; i += size) events.push(...parser.push(text.slice(i, i + size)));
      expect(events, `chunks of ${String(size)}`).toEqual([
        { event: 'link', data: '{"state":"open"}', id: undefined },
        { event: 'session', data: 'x', id: undefined },
      ]);
    }
  });

  it('dispatches no event for a block without data, and resets the event name after each block', () => {
    const parser = new SseParser();
    expect(parser.push('event: frame\n\ndata: y\n\n')).toEqual([{ event: 'message', data: 'y', id: undefined }]);
  });

  it('keeps the value after a single leading space only, and ignores unknown fields and retry', () => {
    const parser = new SseParser();
    expect(parser.push('retry: 10\nfoo: bar\ndata:  two spaces\ndata\n\n')).toEqual([{ event: 'message', data: ' two spaces\n', id: undefined }]);
  });
});

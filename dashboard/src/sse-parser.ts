/**
 * An incremental text/event-stream parser (WHATWG HTML, "Server-sent events", §9.2.6): feed it decoded
 * chunks as they arrive, in any split, and it returns the events each chunk completed.
 * Pure: no DOM, so it is unit-tested under Node.
 */

export interface SseEvent {
  /** `message` when the block named none. */
  readonly event: string;
  /** The block's data lines joined with "\n". */
  readonly data: string;
  readonly id: string | undefined;
}

export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;

  /** Parses `chunk` (text, already decoded) and returns the events it completed. */
  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const events: SseEvent[] = [];
    for (;;) {
      const end = lineEnd(this.buffer);
      if (end === null) break;
      const line = this.buffer.slice(0, end.index);
      this.buffer = this.buffer.slice(end.index + end.length);
      const event = this.line(line);
      if (event !== null) events.push(event);
    }
    return events;
  }

  private line(line: string): SseEvent | null {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return null; // a comment, e.g. the server's keepalive
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.event = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        break;
      default:
        break; // `retry` and unknown fields: the reconnect policy is the client's own
    }
    return null;
  }

  private dispatch(): SseEvent | null {
    const event = this.data.length === 0 ? null : { event: this.event === '' ? 'message' : this.event, data: this.data.join('\n'), id: this.id };
    this.event = '';
    this.data = [];
    return event;
  }
}

/**
 * The first line ending in `text`: CRLF, LF or CR. A CR at the very end stays unread until the next chunk
 * says whether an LF follows, so a CRLF split across chunks is not read as two line ends.
 */
function lineEnd(text: string): { index: number; length: number } | null {
  const lf = text.indexOf('\n');
  const cr = text.indexOf('\r');
  if (cr === -1 || (lf !== -1 && lf < cr)) return lf === -1 ? null : { index: lf, length: 1 };
  if (cr === text.length - 1) return null;
  return { index: cr, length: text[cr + 1] === '\n' ? 2 : 1 };
}

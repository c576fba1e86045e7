/**
 * A frame as the dashboard's inspector and the SSE stream show it: its head (type, message id, action)
 * and its text, redacted by the one rule the logs use too (logging/credentials.ts): a frame that names a
 * credential anywhere, or a credential-carrying action whatever its shape (an invalid message id
 * included), is shown without its body.
 */
import { classifyFrame, type FrameKind } from '../routing/route-frame.js';
import { mayCarryCredentials } from '../logging/credentials.js';

export interface InspectedFrame {
  readonly message_type: number | null;
  readonly type: FrameKind;
  readonly message_id: string | null;
  readonly action: string | null;
  readonly bytes: number;
  /** The frame's text, redacted, and cut at `maxBodyChars` characters with a trailing `…`. */
  readonly body: string;
}

export const REDACTED_FRAME = '[body not shown: may carry credentials]';

const ELLIPSIS = '…';

export function inspectFrame(data: Buffer | string, isBinary: boolean, maxBodyChars: number): InspectedFrame {
  const bytes = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.length;
  if (isBinary) return { message_type: null, type: 'invalid', message_id: null, action: null, bytes, body: `[binary frame, ${bytes} bytes]` };
  const { kind, head } = classifyFrame(data, false);
  const text = typeof data === 'string' ? data : data.toString('utf8');
  const sensitive = mayCarryCredentials(text, head?.action);
  return {
    message_type: head?.type ?? null,
    type: kind,
    message_id: head?.id ?? null,
    action: head?.action ?? null,
    bytes,
    body: sensitive ? REDACTED_FRAME : cut(text, maxBodyChars),
  };
}

function cut(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let end = limit;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end) + ELLIPSIS;
}

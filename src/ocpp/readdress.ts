/**
 * A frame under another message id, without re-serialising its payload: the head
 * is written anew and the rest is copied as it arrived. Used for the proxy's own
 * ids (a secondary's command sent to the charger under a UUID, the charger's answer
 * sent back under the secondary's id, a replayed BootNotification under a fresh id).
 * A payload a JSON round trip could not survive (10,000 levels deep, say) passes
 * as it is.
 */
import { MessageType } from './frame.js';
import { scanFrameHeadWithBody } from './scan.js';

/** `frame` with `id` as its message id; undefined when its head cannot be read. */
export function withMessageId(frame: Buffer | string, id: string): string | undefined {
  const head = scanFrameHeadWithBody(frame);
  if (head === undefined) return undefined;
  const rest = typeof frame === 'string' ? frame.slice(head.bodyStart) : frame.subarray(head.bodyStart).toString('utf8');
  const action = head.type === MessageType.Call || head.type === MessageType.Send ? `${JSON.stringify(head.action ?? '')},` : '';
  return `[${head.type},${JSON.stringify(id)},${action}${rest}`;
}

import { ErrorCode } from '../../errors.js';
import type { AddressCounter } from '../address-counter.js';
import type { AdmissionStep } from '../chain.js';
import { onceClosed } from '../open-sockets.js';
import { limitReached } from '../refusal.js';

/**
 * `max_connections_per_ip` behind a reverse proxy of the operator's (`trust_proxy`): every connection comes
 * from the reverse proxy, so the client is the X-Forwarded-For address, known only once the request is read.
 * Counts the charger's connection against it until the socket closes; refuses with 503 (Retry-After) past
 * the limit. (Without `trust_proxy` the TCP peer is counted as the connection is accepted: see ConnectionGuard.)
 */
export function limitPerAddress(counter: AddressCounter): AdmissionStep {
  return function limitPerAddress(handshake) {
    // No usable X-Forwarded-For: the reverse proxy's own address, shared by every such request.
    const address = handshake.logFields.remote_address ?? 'unknown';
    const release = counter.tryAcquire(address);
    if (release === undefined) {
      throw limitReached(ErrorCode.TooManyFromAddress, 'max_connections_per_ip', 'too many connections from this address', {
        max_connections_per_ip: counter.max,
      });
    }
    onceClosed(handshake.socket, release);
  };
}

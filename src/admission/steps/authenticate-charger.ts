import { ErrorCode } from '../../errors.js';
import { HttpStatus } from '../../http/refuse.js';
import { parseBasicAuthorization } from '../basic-auth.js';
import type { AdmissionStep } from '../chain.js';
import type { ChargerPasswords } from '../charger-passwords.js';
import { limitReached, UpgradeRefusal } from '../refusal.js';

/** RFC 7617 §2: the challenge a 401 carries, so a client knows to send Basic credentials. */
export const BASIC_CHALLENGE = 'Basic realm="ocpp-splitter"';

export interface AuthenticateChargerOptions {
  readonly passwords: ChargerPasswords;
  /** Whether a session of this identity is live: a failed attempt on it is an attempted takeover, said in the log. */
  readonly isConnected: (identity: string) => boolean;
}

/**
 * `charger_auth: local | both`: the charger's HTTP Basic credentials must name its own charge point id (OCPP
 * Security profiles 1 and 2: the user name is the identity) and match its `chargers` entry; anything else is
 * refused with 401 and a Basic challenge, before the primary is dialled. Runs for every upgrade, a reconnect
 * that would replace a live session included.
 *
 * The 401's body is the same whatever went wrong; the log line (throttled: anyone can fail at will, and the
 * remote address is added where it is written) says which, never with the password.
 */
export function authenticateCharger(options: AuthenticateChargerOptions): AdmissionStep {
  const { passwords, isConnected } = options;
  return async function authenticateCharger(handshake, signal) {
    const { identity } = handshake.charger;
    const refuse = (why: string): UpgradeRefusal => unauthorized(why, isConnected(identity));
    const credentials = parseBasicAuthorization(handshake.authorization);
    if (credentials.kind === 'missing') throw refuse('no credentials');
    if (credentials.kind === 'malformed') throw refuse('malformed Authorization header');
    if (!credentials.user.equals(Buffer.from(identity))) throw refuse('user name is not the charge point id');
    const outcome = await passwords.check(identity, credentials.password, signal);
    // Gone while waiting or while scrypt ran: whatever the check found, nothing is dialled for it.
    if (signal.aborted) throw aborted();
    switch (outcome) {
      case 'accepted':
        return;
      case 'unknown':
        throw refuse('no chargers entry for this charge point id');
      case 'rejected':
        throw refuse('wrong password');
      case 'busy':
        throw limitReached(ErrorCode.TooManyPasswordChecks, 'password_checks', 'too many password checks at once', {
          running: passwords.maxRunning,
          waiting: passwords.maxWaiting,
        });
      case 'aborted':
        throw aborted();
    }
  };
}

function aborted(): UpgradeRefusal {
  return new UpgradeRefusal(ErrorCode.HandshakeAborted, {
    status: HttpStatus.ServiceUnavailable,
    reason: 'handshake aborted',
    // The charger's own doing (or a shutdown), not a fault: info.
    log: { level: 'info', message: 'charger left while its password was checked' },
  });
}

function unauthorized(why: string, idConnected: boolean): UpgradeRefusal {
  const status = HttpStatus.Unauthorized;
  return new UpgradeRefusal(ErrorCode.ChargerUnauthorized, {
    status,
    reason: 'authentication failed',
    headers: { 'WWW-Authenticate': BASIC_CHALLENGE },
    log: {
      level: 'warn',
      message: 'charger authentication failed',
      // id_connected: a charger of this id has a live session, which this connection would have replaced.
      fields: { status, reason: why, id_connected: idConnected },
      throttled: true,
    },
  });
}

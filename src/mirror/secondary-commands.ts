/**
 * A secondary's own CALLs toward the charger, decided by `decideSecondaryCall`
 * (routing/secondary-calls.ts): passed to the charger through the call gate (the
 * answer goes back to this secondary only), answered locally (a remote start, kept
 * for the next transaction start), or refused with a CALLERROR.
 *
 * Answers to a secondary go out with backpressure on that secondary: while it does
 * not read them, the proxy does not read its next CALLs (a secondary that floods and
 * never reads cannot grow the proxy's memory).
 */
import type { Logger } from '../logging/logger.js';
import { channels } from '../diagnostics/channels.js';
import type { Leg } from '../links/leg.js';
import { errorCodeFor, type ErrorKind, type OcppVersion } from '../ocpp/error-codes.js';
import { MessageType, parseFrame, serializeFrame, UNREADABLE_MESSAGE_ID, type CallFrame } from '../ocpp/frame.js';
import { decideSecondaryCall } from '../routing/secondary-calls.js';
import type { CallGate, GateFailure } from './call-gate.js';
import { decodeRemoteStart, type TransactionBook } from './transaction-book.js';

export interface SecondaryCommandsOptions {
  readonly chargerId: string;
  readonly secondaryLabel: string;
  readonly version: OcppVersion;
  readonly gate: CallGate;
  readonly book: TransactionBook;
  readonly answerTimeoutMs: number;
  readonly log: Logger;
  /** The secondary's socket now (answers to a socket that has gone are lost, as on any dead link). */
  readonly leg: () => Leg | undefined;
}

export class SecondaryCommands {
  readonly #o: SecondaryCommandsOptions;

  constructor(options: SecondaryCommandsOptions) {
    this.#o = options;
  }

  /** A CALL from the secondary (its head already read as a CALL). */
  handle(data: Buffer): void {
    const parsed = parseFrame(data);
    if (!parsed.ok) {
      this.#answer(this.#callError(parsed.error.messageId ?? UNREADABLE_MESSAGE_ID, 'format-violation', parsed.error.message));
      return;
    }
    if (parsed.frame.type !== MessageType.Call) return;
    const call = parsed.frame;
    const decision = decideSecondaryCall(this.#o.version, call);
    switch (decision.kind) {
      case 'forward-to-charger':
        this.#publish(call, 'forwarded');
        this.#o.log.info({ action: call.action }, 'secondary command forwarded to the charger');
        this.#o.gate.submit({
          call,
          frame: data,
          deliver: (answer) => this.#answer(answer),
          fail: (reason) => this.#answer(this.#gateFailure(call, reason)),
        });
        return;
      case 'accept-remote-start': {
        const tag = decodeRemoteStart(this.#o.version, decision.pendingIdTag);
        if (tag !== undefined) void this.#o.book.saveRemoteStart(tag);
        this.#publish(call, 'answered_locally');
        this.#o.log.info({ action: call.action }, 'secondary remote start acknowledged locally; its idTag goes into the next transaction start');
        this.#answer(serializeFrame({ type: MessageType.CallResult, id: call.id, payload: decision.response }));
        return;
      }
      case 'reject':
        this.#publish(call, 'refused');
        this.#o.log.info({ action: call.action }, 'secondary command refused: secondaries may only read the charger');
        this.#answer(serializeFrame({ type: MessageType.CallError, id: call.id, errorCode: decision.errorCode, errorDescription: decision.description, errorDetails: {} }));
        return;
    }
  }

  /** A frame that claims to be a CALL but is malformed: answered with a CALLERROR (FormatViolation). */
  refuseMalformed(data: Buffer): void {
    const parsed = parseFrame(data);
    if (parsed.ok || parsed.error.messageType !== MessageType.Call) return;
    this.#answer(this.#callError(parsed.error.messageId ?? UNREADABLE_MESSAGE_ID, 'format-violation', parsed.error.message));
  }

  #publish(call: CallFrame, outcome: 'forwarded' | 'answered_locally' | 'refused'): void {
    channels.secondaryCommand.publish({ chargerId: this.#o.chargerId, secondary: this.#o.secondaryLabel, action: call.action, outcome });
  }

  #gateFailure(call: CallFrame, reason: GateFailure): string {
    const description =
      reason === 'timeout'
        ? `the charger did not answer within ${this.#o.answerTimeoutMs} ms`
        : reason === 'busy'
          ? 'too many commands waiting for the charger'
          : 'the charger is not connected';
    return this.#callError(call.id, 'generic-error', description);
  }

  #callError(id: string, kind: ErrorKind, description: string): string {
    return serializeFrame({ type: MessageType.CallError, id, errorCode: errorCodeFor(this.#o.version, kind), errorDescription: description, errorDetails: {} });
  }

  /** Sends the secondary an answer to its own CALL; while it is not read, the secondary's socket is not read either. */
  #answer(text: string): void {
    const leg = this.#o.leg();
    if (leg?.send(text, false, leg) !== true) this.#o.log.debug('secondary gone before its command was answered');
  }
}

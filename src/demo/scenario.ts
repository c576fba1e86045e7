/**
 * The demo's story, step by step: a charger boots, a secondary reads it and remote-starts, the charger
 * authorises and charges with meter values. After each charger message the scenario waits until the primary
 * answered and the secondary received its copy, so the trace reads in order; then it checks what the proxy
 * should have done and prints ✓ or ✗.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { MessageType, type CallFrame } from '../ocpp/frame.js';
import { BOOT_NOTIFICATION, DEMO_CONNECTOR_ID, statusNotification, timestamp, type DemoCharger } from './charger.js';
import type { OcppPeer } from './peer.js';
import type { Trace, WireRecord } from './trace.js';

/** The idTag the charger's user presents. */
export const CHARGER_ID_TAG = 'DEMO-TAG-1';
/** The idTag the secondary remote-starts with; the proxy puts it in the secondary's copy of StartTransaction. */
export const SECONDARY_ID_TAG = 'SECONDARY-TAG';

export interface ScenarioOptions {
  readonly charger: DemoCharger;
  /** The primary's and the secondary's end of this charger's connections. */
  readonly primary: OcppPeer;
  readonly secondary: OcppPeer;
  readonly trace: Trace;
  readonly wire: readonly WireRecord[];
  /** Longest wait for any one thing the scenario expects. */
  readonly stepTimeoutMs: number;
  /** Pause between steps, so a person can follow; 0 for none. */
  readonly pauseMs: number;
}

export interface ScenarioResult {
  readonly ok: boolean;
  readonly checks: ReadonlyArray<{ readonly ok: boolean; readonly text: string }>;
}

/** No answer or message within the time a step allows. */
export class StepTimeout extends Error {
  override readonly name = 'StepTimeout';
}

/** `promise`, or a StepTimeout naming `what` after `timeoutMs`. */
export async function withinTime<T>(what: string, promise: Promise<T>, timeoutMs: number): Promise<T> {
  const abort = new AbortController();
  try {
    return await Promise.race([
      promise,
      delay(timeoutMs, undefined, { signal: abort.signal, ref: false }).then(() => {
        throw new StepTimeout(`${what}: nothing within ${timeoutMs} ms`);
      }),
    ]);
  } finally {
    abort.abort();
  }
}

export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const { charger, primary, secondary, trace } = options;
  const checks: Array<{ ok: boolean; text: string }> = [];
  const check = (ok: boolean, text: string): void => {
    checks.push({ ok, text });
    trace.check(ok, text);
  };

  const within = <T>(what: string, promise: Promise<T>): Promise<T> => withinTime(what, promise, options.stepTimeoutMs);
  const received = (peer: OcppPeer, id: string, action: string): Promise<CallFrame> =>
    within(`${peer.identity}: ${action} (${id}) at the ${peerRole(peer, primary)}`, peer.waitForCall((call) => call.id === id && call.action === action));

  /** Sends a charger CALL, waits for the primary's answer (through the proxy) and for the secondary's copy. */
  const chargerSends = async (
    action: string,
    payload: Record<string, unknown>,
  ): Promise<{ answer: Record<string, unknown>; atPrimary: CallFrame; atSecondary: CallFrame; id: string }> => {
    const { id, answer } = charger.peer.send(action, payload);
    const answered = await within(`the answer to ${action}`, answer);
    const [atPrimary, atSecondary] = await Promise.all([received(primary, id, action), received(secondary, id, action)]);
    return { answer: answered, atPrimary, atSecondary, id };
  };
  const pause = async (): Promise<void> => {
    if (options.pauseMs > 0) await delay(options.pauseMs);
  };

  try {
    trace.step(
      1,
      'Boot',
      'The charger connects to the proxy and boots. The primary answers it; the secondary gets the same bytes\n' +
        'over its own connection, and its answer stays with the proxy.',
    );
    const boot = await chargerSends('BootNotification', { ...BOOT_NOTIFICATION });
    check(boot.answer.status === 'Accepted', 'the primary accepted the BootNotification and its answer reached the charger');
    check(sameCall(boot.atPrimary, boot.atSecondary), 'the secondary received the same BootNotification, same message id');
    await chargerSends('StatusNotification', statusNotification('Available'));
    await pause();

    trace.step(
      2,
      'The secondary reads the charger (TriggerMessage)',
      'A secondary may read the charger. The proxy passes its TriggerMessage on with a fresh message id, and\n' +
        'returns the charger\'s answer to the secondary under the secondary\'s own id.',
    );
    const triggered = charger.nextTriggered();
    const trigger = secondary.send('TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: DEMO_CONNECTOR_ID });
    // Both at once, so a rejected answer always has a handler (the charger may vanish before it answers).
    const [atCharger, triggerAnswer] = await Promise.all([
      within('the TriggerMessage at the charger', charger.peer.waitForCall((call) => call.action === 'TriggerMessage')),
      within('the answer to TriggerMessage', trigger.answer),
    ]);
    check(atCharger.id !== trigger.id, `the charger got it as ${atCharger.id}, not the secondary's ${trigger.id}`);
    check(triggerAnswer.status === 'Accepted', 'the secondary got the charger\'s Accepted under its own id');
    const sent = await within('the triggered message', triggered);
    await within(`the answer to the triggered ${sent.action}`, sent.answer);
    await Promise.all([received(primary, sent.id, sent.action), received(secondary, sent.id, sent.action)]);
    check(true, `the triggered ${sent.action} went to the primary and, as a copy, to the secondary`);
    await pause();

    trace.step(
      3,
      'The secondary remote-starts (RemoteStartTransaction)',
      'Only the primary controls the charger. The proxy answers the secondary\'s RemoteStartTransaction itself\n' +
        '(Accepted) and keeps its idTag for the next StartTransaction it sends to that secondary.',
    );
    const remoteStart = await within(
      'the answer to RemoteStartTransaction',
      secondary.call('RemoteStartTransaction', { connectorId: DEMO_CONNECTOR_ID, idTag: SECONDARY_ID_TAG }),
    );
    check(remoteStart.status === 'Accepted', 'the proxy answered Accepted; the charger was not asked');
    await pause();

    trace.step(4, 'Authorisation', `The user presents ${CHARGER_ID_TAG}; the primary decides.`);
    const authorize = await chargerSends('Authorize', { idTag: CHARGER_ID_TAG });
    check(idTagStatus(authorize.answer) === 'Accepted', `the primary authorised ${CHARGER_ID_TAG}`);
    await pause();

    trace.step(
      5,
      'A short transaction with meter values',
      'Each CSMS gives the transaction its own id. The proxy remembers both and rewrites the transactionId in\n' +
        'what it sends to the secondary.',
    );
    await chargerSends('StatusNotification', statusNotification('Preparing'));
    const start = await chargerSends('StartTransaction', {
      connectorId: DEMO_CONNECTOR_ID,
      idTag: CHARGER_ID_TAG,
      meterStart: 0,
      timestamp: timestamp(),
    });
    const primaryTransactionId = start.answer.transactionId;
    const secondaryTransactionId = answerFrom(options.wire, 'secondary', start.id)?.transactionId;
    check(start.atPrimary.payload.idTag === CHARGER_ID_TAG, `the primary's StartTransaction carries the charger's idTag ${CHARGER_ID_TAG}`);
    check(
      start.atSecondary.payload.idTag === SECONDARY_ID_TAG,
      `the secondary's StartTransaction carries its remote-start idTag ${SECONDARY_ID_TAG} (got ${String(start.atSecondary.payload.idTag)})`,
    );
    check(
      typeof primaryTransactionId === 'number' && typeof secondaryTransactionId === 'number',
      `transaction ${String(primaryTransactionId)} at the primary is ${String(secondaryTransactionId)} at the secondary`,
    );
    await chargerSends('StatusNotification', statusNotification('Charging'));
    for (const energyWh of [1200, 2400]) {
      await pause();
      const meter = await chargerSends('MeterValues', {
        connectorId: DEMO_CONNECTOR_ID,
        transactionId: primaryTransactionId,
        meterValue: [
          {
            timestamp: timestamp(),
            sampledValue: [{ value: String(energyWh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
          },
        ],
      });
      check(
        meter.atSecondary.payload.transactionId === secondaryTransactionId,
        `MeterValues (${energyWh} Wh) reached the secondary with transactionId ${String(meter.atSecondary.payload.transactionId)}`,
      );
    }
    const stop = await chargerSends('StopTransaction', {
      transactionId: primaryTransactionId,
      idTag: CHARGER_ID_TAG,
      meterStop: 3600,
      timestamp: timestamp(),
      reason: 'Local',
    });
    check(
      stop.atSecondary.payload.transactionId === secondaryTransactionId,
      `StopTransaction reached the secondary with transactionId ${String(stop.atSecondary.payload.transactionId)}`,
    );
    await chargerSends('StatusNotification', statusNotification('Available'));
    check(
      !charger.peer.receivedCalls.some((call) => call.action === 'RemoteStartTransaction'),
      'the charger never saw the secondary\'s RemoteStartTransaction',
    );
  } catch (error) {
    check(false, `the scenario stopped: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { ok: checks.every((item) => item.ok), checks };
}

function sameCall(a: CallFrame, b: CallFrame): boolean {
  return a.id === b.id && a.action === b.action && JSON.stringify(a.payload) === JSON.stringify(b.payload);
}

function idTagStatus(payload: Record<string, unknown>): unknown {
  const info = payload.idTagInfo;
  return typeof info === 'object' && info !== null && 'status' in info ? info.status : undefined;
}

/** The CALLRESULT payload `party` sent for message `id`, if it did. */
function answerFrom(wire: readonly WireRecord[], party: WireRecord['from'], id: string): Record<string, unknown> | undefined {
  for (const record of wire) {
    if (record.from === party && record.frame?.type === MessageType.CallResult && record.frame.id === id) return record.frame.payload;
  }
  return undefined;
}

function peerRole(peer: OcppPeer, primary: OcppPeer): string {
  return peer === primary ? 'primary' : 'secondary';
}

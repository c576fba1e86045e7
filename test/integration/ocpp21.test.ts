/**
 * OCPP 2.1 framing through the proxy (OCPP-J 2.1 Part 4 §4): SEND (6) and CALLRESULTERROR (5) besides
 * CALL / CALLRESULT / CALLERROR. Every party — the charger, the primary and two secondaries — is a strict
 * 2.1 peer (test/support/ocpp21-peer.ts) that checks each frame against the framing rules and the published
 * 2.1 schemas in both directions; any violation any of them saw fails the test in afterEach.
 *
 * The rules under test:
 * - a charger's SEND goes to the primary byte for byte and is mirrored to every secondary, never awaited:
 *   it neither delays the charger's next CALL at a secondary nor holds the one-outstanding-CALL slot
 *   toward the charger (a secondary's read-only command still gets through);
 * - a CALLRESULTERROR passes between the charger and the primary byte for byte and is never mirrored;
 * - a secondary's SEND and CALLRESULTERROR are dropped, and its link stays up.
 */
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { closeAll, startProxy } from '../support/harness.js';
import {
  connectStrictCharger21,
  MessageType21,
  startStrictCsms21,
  takeOcpp21Violations,
  type Ocpp21Frame,
  type Ocpp21Peer,
  type Payload,
  type ReceivedFrame,
} from '../support/ocpp21-peer.js';

afterEach(async () => {
  const violations = takeOcpp21Violations();
  await closeAll();
  // One line per violation, so the report shows them in full.
  expect(violations.join('\n'), 'OCPP 2.1 violations seen by the strict peers').toBe('');
});

/** How long the proxy waits for a secondary's answer before it gives up on a mirrored CALL. */
const SECONDARY_ANSWER_TIMEOUT_MS = 30_000;
/**
 * "Promptly": far below SECONDARY_ANSWER_TIMEOUT_MS, so a frame that arrives only after the proxy gave up
 * waiting for an answer to a SEND fails the test instead of passing late.
 */
const PROMPT_MS = 5_000;
/** Bound of a negative check ("nothing arrived"); run after a barrier, so it only guards against slow leaks. */
const QUIET_MS = 300;

// ── 2.1 fixtures (schema-valid; the strict peers refuse to send anything else) ──

const T0 = '2026-03-01T10:00:00.000Z';
const TX_ID = 'TX-21-0001';
const boot: Payload = { reason: 'PowerUp', chargingStation: { model: 'Volt-21', vendorName: 'Acme', serialNumber: 'SN-21' } };
const status = (connectorStatus: string): Payload => ({ timestamp: T0, connectorStatus, evseId: 1, connectorId: 1 });
const meterValue = (wh: number): Payload => ({
  timestamp: T0,
  sampledValue: [{ value: wh, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }],
});
const transactionStarted: Payload = {
  eventType: 'Started',
  timestamp: T0,
  triggerReason: 'Authorized',
  seqNo: 0,
  transactionInfo: { transactionId: TX_ID, chargingState: 'EVConnected' },
  evse: { id: 1, connectorId: 1 },
  idToken: { idToken: 'TOKEN-21', type: 'ISO14443' },
  meterValue: [meterValue(0)],
};
const transactionUpdated: Payload = {
  eventType: 'Updated',
  timestamp: T0,
  triggerReason: 'MeterValuePeriodic',
  seqNo: 1,
  transactionInfo: { transactionId: TX_ID, chargingState: 'Charging' },
  meterValue: [meterValue(1500)],
};
const transactionEnded: Payload = {
  eventType: 'Ended',
  timestamp: T0,
  triggerReason: 'EVDeparted',
  seqNo: 2,
  transactionInfo: { transactionId: TX_ID, stoppedReason: 'EVDisconnected' },
  meterValue: [meterValue(3000)],
};
/** NotifyPeriodicEventStream: the 2.1 SEND (its schema has no Request/Response pair). */
const STREAM = 'NotifyPeriodicEventStream';
const streamData = (streamId: number, ...values: string[]): Payload => ({
  id: streamId,
  pending: 0,
  basetime: T0,
  data: values.map((v, t) => ({ t, v })),
});
const heartbeatInterval = { component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } };
const getHeartbeatInterval: Payload = { getVariableData: [heartbeatInterval] };
const heartbeatIntervalResult: Payload = { getVariableResult: [{ attributeStatus: 'Accepted', attributeValue: '300', ...heartbeatInterval }] };
const triggerHeartbeat: Payload = { requestedMessage: 'Heartbeat' };

// ── rig ──

interface Rig {
  readonly charger: Ocpp21Peer;
  readonly primary: Ocpp21Peer;
  readonly secondaries: readonly [Ocpp21Peer, Ocpp21Peer];
}

/** A proxy with a primary and two secondaries, all strict 2.1 peers, and a strict 2.1 charger that has booted. */
async function rig(): Promise<Rig> {
  const primaryCsms = await startStrictCsms21('primary');
  const one = await startStrictCsms21('secondary-1');
  const two = await startStrictCsms21('secondary-2');
  const { url } = await startProxy(primaryCsms.url, {
    secondary_csms: [
      { url: one.url, name: 'one' },
      { url: two.url, name: 'two' },
    ],
    secondary_answer_timeout_ms: SECONDARY_ANSWER_TIMEOUT_MS,
    log_level: 'info',
  });
  const links = Promise.all([primaryCsms.nextPeer(), one.nextPeer(), two.nextPeer()]);
  const charger = await connectStrictCharger21(url('/ocpp/CS-21'));
  const [primary, s1, s2] = await links;
  return { charger, primary, secondaries: [s1, s2] };
}

/** Boots the charger and waits until both secondaries have the mirrored BootNotification. */
async function booted(r: Rig): Promise<void> {
  const answer = await r.charger.call('BootNotification', boot);
  expect(answer.payload).toMatchObject({ status: 'Accepted', interval: 300 });
  await Promise.all(r.secondaries.map((s) => s.waitForId(MessageType21.Call, answer.id)));
}

/** The frame as an OCPP-J array, for comparisons that ignore whitespace and key order. */
function asArray(frame: Ocpp21Frame | undefined): unknown[] {
  if (frame === undefined) return [];
  switch (frame.type) {
    case MessageType21.Call:
    case MessageType21.Send:
      return [frame.type, frame.id, frame.action, frame.payload];
    case MessageType21.CallResult:
      return [frame.type, frame.id, frame.payload];
    case MessageType21.CallError:
    case MessageType21.CallResultError:
      return [frame.type, frame.id, frame.errorCode, frame.errorDescription, frame.errorDetails];
  }
}

const parsed = (text: string): unknown => JSON.parse(text);
const types = (peer: Ocpp21Peer): Array<number | undefined> => peer.received.map((r) => r.frame?.type);

/** Pings from `socket` and waits for the pong: every frame the other end sent before handling the ping has arrived. */
async function pingPong(socket: WebSocket): Promise<void> {
  const pong = once(socket, 'pong');
  socket.ping();
  await pong;
}

/** Fails if a frame matching `predicate` arrives at `peer` within QUIET_MS (or has already arrived). */
async function expectNothing(peer: Ocpp21Peer, predicate: (r: ReceivedFrame) => boolean, what: string): Promise<void> {
  // Settles early when one arrives (or when the peer records a violation); the list below is what counts.
  await peer.waitFor(predicate, what, QUIET_MS).catch(() => undefined);
  expect(peer.received.filter(predicate).map((r) => r.text), `${peer.name} must not receive ${what}`).toEqual([]);
}

/** A promise and the function that settles it: an answer a handler holds back until the test lets it go. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

// ── tests ──

describe('OCPP 2.1 CALL / CALLRESULT traffic', () => {
  it('validates end to end, charger ↔ primary byte for byte, every charger CALL mirrored to both secondaries', async () => {
    const r = await rig();
    const { charger, primary, secondaries } = r;
    const calls: Array<[string, Payload]> = [
      ['BootNotification', boot],
      ['Heartbeat', {}],
      ['StatusNotification', status('Available')],
      ['StatusNotification', status('Occupied')],
      ['TransactionEvent', transactionStarted],
      ['TransactionEvent', transactionUpdated],
      ['TransactionEvent', transactionEnded],
    ];
    const outcomes = [];
    for (const [action, payload] of calls) outcomes.push(await charger.call(action, payload));
    expect(outcomes[0]?.payload).toMatchObject({ status: 'Accepted', interval: 300 });
    expect(outcomes[4]?.payload).toEqual({ idTokenInfo: { status: 'Accepted' } });

    // The primary read the charger's bytes, in order; the charger got the primary's answers only.
    expect(primary.received.map((f) => f.text)).toEqual(outcomes.map((o) => o.text));
    expect(types(charger)).toEqual(calls.map(() => MessageType21.CallResult));

    // The primary reads a variable: the CSMS → charger direction validates too, and stays between the two.
    charger.handle('GetVariables', () => heartbeatIntervalResult);
    const read = await primary.call('GetVariables', getHeartbeatInterval);
    expect(read.payload).toEqual(heartbeatIntervalResult);
    const last = await charger.call('Heartbeat', {});
    outcomes.push(last);

    for (const secondary of secondaries) {
      await secondary.waitForId(MessageType21.Call, last.id, PROMPT_MS);
      expect(secondary.received.map((f) => asArray(f.frame))).toEqual(outcomes.map((o) => parsed(o.text)));
    }
  });
});

describe('OCPP 2.1 SEND from the charger', () => {
  it('reaches the primary byte for byte and is mirrored to every secondary; nobody answers it', async () => {
    const r = await rig();
    await booted(r);
    const { charger, primary, secondaries } = r;
    // Whitespace and key order of the original: a re-serialised frame would differ.
    const send = charger.sendText(
      `[6, "stream-1", "${STREAM}", {"pending": 0, "id": 7, "basetime": "${T0}", "data": [{"v": "230.1", "t": 0}, {"t": 1.5, "v": "229.8"}]}]`,
    );
    const atPrimary = await primary.waitForId(MessageType21.Send, 'stream-1', PROMPT_MS);
    expect(atPrimary.text).toBe(send);
    for (const secondary of secondaries) {
      const mirrored = await secondary.waitForId(MessageType21.Send, 'stream-1', PROMPT_MS);
      expect(parsed(mirrored.text)).toEqual(parsed(send));
    }
    // A SEND is never answered: the charger gets nothing for it, from the primary or from the proxy.
    const heartbeat = await charger.call('Heartbeat', {});
    await pingPong(charger.socket);
    expect(charger.received.filter((f) => f.frame?.id === 'stream-1')).toEqual([]);
    expect(primary.received.map((f) => f.frame?.id)).toEqual([expect.any(String), 'stream-1', heartbeat.id]);
  });

  it('is never awaited: the charger’s next CALLs reach each secondary at once, in the charger’s order', async () => {
    const r = await rig();
    await booted(r);
    const { charger, secondaries } = r;
    const sent: string[] = [];
    sent.push(charger.send(STREAM, streamData(1, '10.0')));
    sent.push(charger.send(STREAM, streamData(1, '10.1')));
    // The secondaries never answer the SENDs (no one may): a mirror that waited for an answer would hold
    // this CALL until its answer timeout (30 s) — PROMPT_MS fails it long before.
    const heartbeat = await charger.call('Heartbeat', {});
    sent.push(heartbeat.text);
    sent.push(charger.send(STREAM, streamData(1, '10.2')));
    const statusCall = await charger.call('StatusNotification', status('Available'));
    sent.push(statusCall.text);

    for (const secondary of secondaries) {
      await secondary.waitForId(MessageType21.Call, heartbeat.id, PROMPT_MS);
      await secondary.waitForId(MessageType21.Call, statusCall.id, PROMPT_MS);
      const afterBoot = secondary.received.slice(1).map((f) => asArray(f.frame));
      expect(afterBoot).toEqual(sent.map(parsed));
    }
  });

  it('never holds the one-outstanding-CALL slot toward the charger: secondaries’ read-only commands get through', async () => {
    const r = await rig();
    await booted(r);
    const { charger, secondaries } = r;
    const [s1, s2] = secondaries;
    // The charger keeps streaming while it handles each command.
    charger.handle('TriggerMessage', () => {
      charger.send(STREAM, streamData(2, 'during-trigger'));
      return { status: 'Accepted' };
    });
    charger.handle('GetVariables', () => {
      charger.send(STREAM, streamData(2, 'during-get-variables'));
      return heartbeatIntervalResult;
    });

    charger.send(STREAM, streamData(2, 'before-trigger'));
    const trigger = await s1.call('TriggerMessage', triggerHeartbeat, { timeoutMs: PROMPT_MS });
    expect(trigger.payload).toEqual({ status: 'Accepted' });
    charger.send(STREAM, streamData(2, 'before-get-variables'));
    const variables = await s2.call('GetVariables', getHeartbeatInterval, { timeoutMs: PROMPT_MS });
    expect(variables.payload).toEqual(heartbeatIntervalResult);

    // Only the commands reached the charger, under the proxy's own ids; the secondaries' answers went back to them.
    const commands = charger.framesOfType(MessageType21.Call);
    expect(commands.map((c) => (c.type === MessageType21.Call ? c.action : ''))).toEqual(['TriggerMessage', 'GetVariables']);
    expect(commands.map((c) => c.id)).not.toContain(trigger.id);
    expect(commands.map((c) => c.id)).not.toContain(variables.id);
    // The streamed SENDs were mirrored to both secondaries all the same.
    for (const secondary of secondaries) {
      await secondary.waitFor(
        (f) => f.frame?.type === MessageType21.Send && JSON.stringify(f.frame.payload).includes('during-get-variables'),
        'the SEND streamed during GetVariables',
        PROMPT_MS,
      );
      expect(secondary.framesOfType(MessageType21.Send)).toHaveLength(4);
    }
  });

  it('does not answer the primary’s CALL even with the same id: a secondary’s command waits for the real answer', async () => {
    const r = await rig();
    await booted(r);
    const { charger, primary, secondaries } = r;
    const [s1] = secondaries;
    const release = deferred<Payload>();
    charger.handle('GetVariables', () => release.promise);
    charger.handle('TriggerMessage', () => ({ status: 'Accepted' }));

    const primaryRead = primary.call('GetVariables', getHeartbeatInterval, { id: 'shared-id-1' });
    await charger.waitForId(MessageType21.Call, 'shared-id-1', PROMPT_MS);
    // Ids are unique per sender only: the charger's SEND may carry the id of the primary's outstanding CALL.
    // It answers nothing, so the slot stays taken and the secondary's command must wait.
    charger.send(STREAM, streamData(3, 'same-id'), 'shared-id-1');
    await primary.waitForId(MessageType21.Send, 'shared-id-1', PROMPT_MS);
    const trigger = s1.call('TriggerMessage', triggerHeartbeat, { timeoutMs: PROMPT_MS });
    // Barrier: the proxy has read the secondary's CALL, and the charger has everything the proxy wrote before that.
    await pingPong(s1.socket);
    await pingPong(charger.socket);
    await expectNothing(charger, (f) => f.frame?.type === MessageType21.Call && f.frame.action === 'TriggerMessage', 'a TriggerMessage while the primary’s CALL is unanswered');

    release.resolve(heartbeatIntervalResult);
    await expect(primaryRead).resolves.toMatchObject({ id: 'shared-id-1', payload: heartbeatIntervalResult });
    await expect(trigger).resolves.toMatchObject({ payload: { status: 'Accepted' } });
    expect(charger.framesOfType(MessageType21.Call).map((c) => (c.type === MessageType21.Call ? c.action : ''))).toEqual([
      'GetVariables',
      'TriggerMessage',
    ]);
  });
});

describe('OCPP 2.1 CALLRESULTERROR between the charger and the primary', () => {
  it('from the charger reaches the primary byte for byte and is never mirrored', async () => {
    const r = await rig();
    await booted(r);
    const { charger, primary, secondaries } = r;
    const heartbeat = await charger.call('Heartbeat', {});
    await Promise.all(secondaries.map((s) => s.waitForId(MessageType21.Call, heartbeat.id, PROMPT_MS)));
    const callResultError = charger.sendText(
      `[5, "${heartbeat.id}", "PropertyConstraintViolation", "currentTime is not in the charger's time window", {"field": "currentTime"}]`,
    );
    const atPrimary = await primary.waitForId(MessageType21.CallResultError, heartbeat.id, PROMPT_MS);
    expect(atPrimary.text).toBe(callResultError);

    // Barrier: the charger's next CALL is mirrored after anything the proxy queued before it.
    const next = await charger.call('StatusNotification', status('Available'));
    for (const secondary of secondaries) {
      await secondary.waitForId(MessageType21.Call, next.id, PROMPT_MS);
      expect(secondary.framesOfType(MessageType21.CallResultError)).toEqual([]);
      expect(types(secondary).every((type) => type === MessageType21.Call)).toBe(true);
    }
  });

  it('from the primary reaches the charger byte for byte, is never mirrored, and holds nothing up', async () => {
    const r = await rig();
    await booted(r);
    const { charger, primary, secondaries } = r;
    const [s1] = secondaries;
    charger.handle('GetVariables', () => heartbeatIntervalResult);
    charger.handle('TriggerMessage', () => ({ status: 'Accepted' }));
    const read = await primary.call('GetVariables', getHeartbeatInterval);
    const callResultError = primary.sendText(
      `[5, "${read.id}", "OccurrenceConstraintViolation", "attributeValue expected for every variable", {"variable": "HeartbeatInterval"}]`,
    );
    const atCharger = await charger.waitForId(MessageType21.CallResultError, read.id, PROMPT_MS);
    expect(atCharger.text).toBe(callResultError);

    // Not a CALL: the slot toward the charger is free, so a secondary's command goes straight through.
    await expect(s1.call('TriggerMessage', triggerHeartbeat, { timeoutMs: PROMPT_MS })).resolves.toMatchObject({
      payload: { status: 'Accepted' },
    });
    const heartbeat = await charger.call('Heartbeat', {});
    for (const secondary of secondaries) {
      await secondary.waitForId(MessageType21.Call, heartbeat.id, PROMPT_MS);
      expect(secondary.framesOfType(MessageType21.CallResultError)).toEqual([]);
    }
  });
});

describe('OCPP 2.1 frames a secondary may not send', () => {
  it('a secondary’s SEND is dropped: it never reaches the charger, is not answered, and the link stays up', async () => {
    const r = await rig();
    await booted(r);
    const { charger, secondaries } = r;
    const [s1] = secondaries;
    charger.handle('TriggerMessage', () => ({ status: 'Accepted' }));
    s1.send(STREAM, streamData(9, 'from-a-secondary'), 'secondary-send-1');
    // Barrier: the proxy handles the secondary's frames in order, so the SEND would reach the charger first.
    const trigger = await s1.call('TriggerMessage', triggerHeartbeat, { timeoutMs: PROMPT_MS });
    expect(trigger.payload).toEqual({ status: 'Accepted' });
    expect(charger.framesOfType(MessageType21.Send)).toEqual([]);
    expect(types(charger)).toEqual([MessageType21.CallResult, MessageType21.Call]);
    await expectNothing(charger, (f) => f.frame?.type === MessageType21.Send, 'a secondary’s SEND');
    // A SEND is not answered, by the proxy either (the strict secondary also flags any stray answer).
    expect(s1.received.filter((f) => f.frame?.id === 'secondary-send-1')).toEqual([]);

    // The link is still up and still mirrors.
    expect(s1.isOpen).toBe(true);
    const heartbeat = await charger.call('Heartbeat', {});
    await s1.waitForId(MessageType21.Call, heartbeat.id, PROMPT_MS);
  });

  it('a secondary’s CALLRESULTERROR is dropped: it never reaches the charger, and the link stays up', async () => {
    const r = await rig();
    await booted(r);
    const { charger, secondaries } = r;
    const [s1] = secondaries;
    charger.handle('TriggerMessage', () => ({ status: 'Accepted' }));
    charger.handle('GetVariables', () => heartbeatIntervalResult);
    const trigger = await s1.call('TriggerMessage', triggerHeartbeat, { timeoutMs: PROMPT_MS });
    s1.callResultError(trigger.id, 'GenericError', 'could not process the TriggerMessage answer');
    // Barrier: the secondary's next command passes the proxy after the CALLRESULTERROR.
    const variables = await s1.call('GetVariables', getHeartbeatInterval, { timeoutMs: PROMPT_MS });
    expect(variables.payload).toEqual(heartbeatIntervalResult);
    expect(charger.framesOfType(MessageType21.CallResultError)).toEqual([]);
    await expectNothing(charger, (f) => f.frame?.type === MessageType21.CallResultError, 'a secondary’s CALLRESULTERROR');
    expect(types(charger)).toEqual([MessageType21.CallResult, MessageType21.Call, MessageType21.Call]);

    expect(s1.isOpen).toBe(true);
    const heartbeat = await charger.call('Heartbeat', {});
    await s1.waitForId(MessageType21.Call, heartbeat.id, PROMPT_MS);
  });
});

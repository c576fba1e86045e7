/**
 * The call gate on its own, without sockets: one proxy CALL at a time, never while the
 * primary has a CALL outstanding, ids rewritten and mapped back, timeouts, late answers.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CallGate, MAX_WAITING_CALLS, type GateFailure } from '../../src/mirror/call-gate.js';
import { call } from '../../src/ocpp/frame.js';

afterEach(() => {
  vi.useRealTimers();
});

function setup(answerTimeoutMs = 1_000) {
  const sent: string[] = [];
  let chargerConnected = true;
  const gate = new CallGate((text) => {
    if (!chargerConnected) return false;
    sent.push(text);
    return true;
  }, answerTimeoutMs);
  const submit = (id: string) => {
    const answers: string[] = [];
    const failures: GateFailure[] = [];
    const secondaryCall = call(id, 'TriggerMessage', { requestedMessage: 'Heartbeat' });
    const frame = Buffer.from(JSON.stringify([2, id, secondaryCall.action, secondaryCall.payload]));
    gate.submit({ call: secondaryCall, frame, deliver: (a) => answers.push(a), fail: (f) => failures.push(f) });
    return { answers, failures };
  };
  const lastProxyId = () => (JSON.parse(sent.at(-1) ?? '[]') as unknown[])[1] as string;
  return { gate, sent, submit, lastProxyId, disconnect: () => (chargerConnected = false) };
}

describe('CallGate', () => {
  it('sends a secondary CALL under a fresh UUID and maps the charger’s answer back, payload bytes untouched', () => {
    const { gate, sent, submit, lastProxyId } = setup();
    const { answers } = submit('sec-1');
    expect(sent).toHaveLength(1);
    const proxyId = lastProxyId();
    expect(proxyId).toMatch(/^[0-9a-f-]{36}$/);
    expect(gate.isInFlight(proxyId)).toBe(true);
    gate.deliverAnswer(proxyId, Buffer.from(`[3, "${proxyId}" ,{"z":1,  "a":[1.50]}]`));
    expect(answers).toEqual(['[3,"sec-1",{"z":1,  "a":[1.50]}]']);
    expect(gate.isInFlight(proxyId)).toBe(false);
  });

  it('re-addresses an answer 10,000 levels deep without re-serialising it', () => {
    const { gate, submit, lastProxyId } = setup();
    const { answers } = submit('deep');
    const deepPayload = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    gate.deliverAnswer(lastProxyId(), Buffer.from(`[3,"${lastProxyId()}",${deepPayload}]`));
    expect(answers).toEqual([`[3,"deep",${deepPayload}]`]);
  });

  it('sends the secondary’s own bytes under the proxy id, even a payload no JSON round trip survives', () => {
    const sent: string[] = [];
    const gate = new CallGate((text) => sent.push(text) > 0, 1_000);
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const frame = Buffer.from(`[2,"sec-deep","GetConfiguration",{"key":${deep}}]`);
    gate.submit({ call: call('sec-deep', 'GetConfiguration', {}), frame, deliver: () => undefined, fail: () => undefined });
    const proxyId = gate.isInFlight((JSON.parse(sent[0] ?? '[]') as unknown[])[1] as string);
    expect(proxyId).toBe(true);
    expect(sent[0]).toMatch(new RegExp(`^\\[2,"[0-9a-f-]{36}","GetConfiguration",\\{"key":\\[{100}`));
  });

  it('holds proxy CALLs while the primary has one outstanding, and sends one at a time', () => {
    const { gate, sent, submit, lastProxyId } = setup();
    gate.primaryCallSent('p-1');
    submit('a');
    submit('b');
    expect(sent).toHaveLength(0);
    gate.chargerAnswered('p-1');
    expect(sent).toHaveLength(1);
    gate.deliverAnswer(lastProxyId(), Buffer.from(`[3,"${lastProxyId()}",{}]`));
    expect(sent).toHaveLength(2);
  });

  it('an answer to another CALL does not release the primary’s hold', () => {
    const { gate, sent, submit } = setup();
    gate.primaryCallSent('p-1');
    submit('a');
    gate.chargerAnswered('something-else');
    expect(sent).toHaveLength(0);
  });

  it('a primary CALL the charger never answers blocks secondaries for the answer timeout only', () => {
    vi.useFakeTimers();
    const { gate, sent, submit } = setup(1_000);
    gate.primaryCallSent('p-never');
    submit('a');
    vi.advanceTimersByTime(999);
    expect(sent).toHaveLength(0);
    vi.advanceTimersByTime(2);
    expect(sent).toHaveLength(1);
  });

  it('times a proxy CALL out, fails it, and remembers its id so the late answer reaches no one', () => {
    vi.useFakeTimers();
    const { gate, submit, lastProxyId } = setup(1_000);
    const { failures, answers } = submit('a');
    const proxyId = lastProxyId();
    vi.advanceTimersByTime(1_001);
    expect(failures).toEqual(['timeout']);
    expect(gate.isInFlight(proxyId)).toBe(false);
    expect(gate.isExpired(proxyId)).toBe(true);
    gate.forgetExpired(proxyId);
    expect(gate.isExpired(proxyId)).toBe(false);
    expect(answers).toEqual([]);
  });

  it(`refuses more than ${MAX_WAITING_CALLS} waiting CALLs with 'busy' (a flooding secondary is not queued for ever)`, () => {
    const { gate, submit } = setup();
    gate.primaryCallSent('p-1');
    const results = Array.from({ length: MAX_WAITING_CALLS + 1 }, (_, i) => submit(`c-${i}`));
    expect(results.slice(0, MAX_WAITING_CALLS).every((r) => r.failures.length === 0)).toBe(true);
    expect(results.at(-1)?.failures).toEqual(['busy']);
  });

  it('fails everything pending when closed, and what comes later', () => {
    const { gate, submit } = setup();
    gate.primaryCallSent('p-1');
    const first = submit('a');
    gate.close();
    expect(first.failures).toEqual(['charger-gone']);
    expect(submit('b').failures).toEqual(['charger-gone']);
  });

  it('fails a CALL the charger can no longer receive', () => {
    const { submit, disconnect } = setup();
    disconnect();
    expect(submit('a').failures).toEqual(['charger-gone']);
  });
});

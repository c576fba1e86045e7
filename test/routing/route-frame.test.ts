/**
 * The routing table, exhaustively: every source × frame kind × combination of facts,
 * checked against the invariants the proxy promises (see src/routing/route-frame.ts),
 * then the decisions that matter spelt out one by one.
 */
import { describe, expect, it } from 'vitest';
import {
  classifyFrame,
  FRAME_KINDS,
  NO_FACTS,
  ROUTE_SOURCES,
  routeFrame,
  type FrameKind,
  type RouteFacts,
  type RouteSource,
} from '../../src/routing/route-frame.js';

const FACT_NAMES = ['mirroring', 'answersProxyCall', 'answersExpiredProxyCall', 'answersDelivery', 'looksLikeCall'] as const;

function* everyFacts(): Generator<RouteFacts> {
  for (let bits = 0; bits < 2 ** FACT_NAMES.length; bits += 1) {
    const facts: Record<string, boolean> = {};
    FACT_NAMES.forEach((name, index) => (facts[name] = (bits & (1 << index)) !== 0));
    yield { ...NO_FACTS, ...facts };
  }
}

function* everyCase(): Generator<{ source: RouteSource; kind: FrameKind; facts: RouteFacts; kinds: string[] }> {
  for (const source of ROUTE_SOURCES) {
    for (const kind of FRAME_KINDS) {
      for (const facts of everyFacts()) {
        yield { source, kind, facts, kinds: routeFrame(source, kind, facts).map((action) => action.kind) };
      }
    }
  }
}

const kindsOf = (source: RouteSource, kind: FrameKind, facts: Partial<RouteFacts> = {}): string[] =>
  routeFrame(source, kind, { ...NO_FACTS, ...facts }).map((action) => action.kind);

describe('routing table invariants, over every source, kind and fact', () => {
  const cases = [...everyCase()];

  it('covers 4 sources × 6 kinds × 32 fact combinations', () => {
    expect(cases).toHaveLength(4 * 6 * 32);
  });

  it('every frame has at least one action, and `forward` at most once and always first', () => {
    for (const { kinds } of cases) {
      expect(kinds.length).toBeGreaterThan(0);
      const forwards = kinds.filter((kind) => kind === 'forward').length;
      expect(forwards).toBeLessThanOrEqual(1);
      if (forwards === 1) expect(kinds[0]).toBe('forward');
    }
  });

  it('a secondary never reaches the charger or the primary directly, and is never mirrored', () => {
    for (const { source, kinds } of cases.filter((c) => c.source === 'secondary')) {
      expect(source).toBe('secondary');
      expect(kinds).not.toContain('forward');
      expect(kinds).not.toContain('mirror-call');
      expect(kinds).not.toContain('mirror-send');
      expect(kinds).not.toContain('send-to-charger');
    }
  });

  it('only the charger’s CALLs and SENDs are mirrored, and only when mirroring', () => {
    for (const { source, kind, facts, kinds } of cases) {
      expect(kinds.includes('mirror-call')).toBe(source === 'charger' && kind === 'call' && facts.mirroring);
      expect(kinds.includes('mirror-send')).toBe(source === 'charger' && kind === 'send' && facts.mirroring);
    }
  });

  it('a charger answer (or malformed frame) goes to the primary unless it answers a proxy CALL (in flight or timed out)', () => {
    for (const { source, kind, facts, kinds } of cases) {
      if (source !== 'charger' || (kind !== 'callresult' && kind !== 'callerror' && kind !== 'invalid')) continue;
      const proxys = facts.answersProxyCall || facts.answersExpiredProxyCall;
      expect(kinds.includes('forward')).toBe(!proxys);
      if (facts.answersProxyCall) expect(kinds).toEqual(['answer-secondary-command']);
      else if (facts.answersExpiredProxyCall) expect(kinds).toEqual(['discard']);
    }
  });

  it('every other charger or primary frame is forwarded, whatever the facts', () => {
    for (const { source, kind, kinds } of cases) {
      if (source !== 'charger' && source !== 'primary') continue;
      if (source === 'charger' && (kind === 'callresult' || kind === 'callerror' || kind === 'invalid')) continue;
      expect(kinds[0]).toBe('forward');
    }
  });

  it('without secondaries, charger and primary frames are only forwarded (or routed to a proxy CALL’s owner)', () => {
    for (const { source, kind, facts, kinds } of cases) {
      if (facts.mirroring || (source !== 'charger' && source !== 'primary')) continue;
      if (source === 'charger' && (kind === 'callresult' || kind === 'callerror' || kind === 'invalid') && (facts.answersProxyCall || facts.answersExpiredProxyCall)) continue;
      expect(kinds).toEqual(['forward']);
    }
  });

  it('a SEND is never awaited: no frame kind "send" holds or releases the gate or waits for an answer', () => {
    for (const { kind, kinds } of cases) {
      if (kind !== 'send') continue;
      expect(kinds).not.toContain('hold-gate');
      expect(kinds).not.toContain('release-gate');
      expect(kinds).not.toContain('ack-delivery');
    }
  });

  it('is pure: the same input always gives the same (shared, allocation-free) list', () => {
    for (const { source, kind, facts } of cases) expect(routeFrame(source, kind, facts)).toBe(routeFrame(source, kind, facts));
  });
});

describe('routing table decisions', () => {
  const mirroring = { mirroring: true };

  it('charger CALL: forwarded, then mirrored', () => {
    expect(kindsOf('charger', 'call', mirroring)).toEqual(['forward', 'mirror-call']);
  });

  it('charger SEND (2.1): forwarded, then mirrored as a SEND', () => {
    expect(kindsOf('charger', 'send', mirroring)).toEqual(['forward', 'mirror-send']);
  });

  it('charger CALLRESULT / CALLERROR to the primary: forwarded, then the gate may go on', () => {
    expect(kindsOf('charger', 'callresult', mirroring)).toEqual(['forward', 'release-gate']);
    expect(kindsOf('charger', 'callerror', mirroring)).toEqual(['forward', 'release-gate']);
  });

  it('charger answer to a proxy CALL: to the secondary only; a late one: nowhere', () => {
    expect(kindsOf('charger', 'callresult', { ...mirroring, answersProxyCall: true })).toEqual(['answer-secondary-command']);
    const late = routeFrame('charger', 'callerror', { ...NO_FACTS, ...mirroring, answersExpiredProxyCall: true });
    expect(late).toEqual([{ kind: 'discard', reason: 'late-proxy-answer' }]);
  });

  it('charger CALLRESULTERROR (2.1) and unreadable frames: forwarded to the primary, never mirrored', () => {
    expect(kindsOf('charger', 'callresulterror', mirroring)).toEqual(['forward']);
    expect(kindsOf('charger', 'invalid', mirroring)).toEqual(['forward']);
  });

  it('primary CALL holds the gate; primary answers teach the mirror; everything from the primary is forwarded first', () => {
    expect(kindsOf('primary', 'call', mirroring)).toEqual(['forward', 'hold-gate']);
    expect(kindsOf('primary', 'callresult', mirroring)).toEqual(['forward', 'learn-primary-answer']);
    expect(kindsOf('primary', 'callerror', mirroring)).toEqual(['forward', 'learn-primary-answer']);
    expect(kindsOf('primary', 'callresulterror', mirroring)).toEqual(['forward']);
    expect(kindsOf('primary', 'send', mirroring)).toEqual(['forward']);
    expect(kindsOf('primary', 'invalid', mirroring)).toEqual(['forward']);
  });

  it('secondary frames: CALL to its command policy; answers ack the delivery in flight; SEND and CALLRESULTERROR dropped', () => {
    expect(kindsOf('secondary', 'call', mirroring)).toEqual(['secondary-command']);
    expect(kindsOf('secondary', 'callresult', { ...mirroring, answersDelivery: true })).toEqual(['ack-delivery']);
    expect(routeFrame('secondary', 'callresult', { ...NO_FACTS, ...mirroring })).toEqual([{ kind: 'discard', reason: 'secondary-stray-answer' }]);
    expect(routeFrame('secondary', 'send', { ...NO_FACTS, ...mirroring })).toEqual([{ kind: 'discard', reason: 'secondary-send' }]);
    expect(routeFrame('secondary', 'callresulterror', { ...NO_FACTS, ...mirroring })).toEqual([{ kind: 'discard', reason: 'secondary-callresulterror' }]);
    expect(kindsOf('secondary', 'invalid', { ...mirroring, looksLikeCall: true })).toEqual(['discard', 'refuse-malformed-call']);
    expect(kindsOf('secondary', 'invalid', mirroring)).toEqual(['discard']);
  });

  it('the proxy’s own frames go to a secondary (resend, replay) or through the gate to the charger', () => {
    expect(kindsOf('proxy', 'call', mirroring)).toEqual(['send-to-secondary']);
    expect(kindsOf('proxy', 'call')).toEqual(['send-to-charger']);
  });
});

describe('classifyFrame reads the head only', () => {
  it.each([
    ['[2,"a","Heartbeat",{}]', 'call'],
    ['[3,"a",{}]', 'callresult'],
    ['[4,"a","GenericError","",{}]', 'callerror'],
    ['[5,"a","GenericError","",{}]', 'callresulterror'],
    ['[6,"a","NotifyPeriodicEventStream",{}]', 'send'],
    ['hello', 'invalid'],
    ['[9,"x"]', 'invalid'],
    ['', 'invalid'],
  ] as const)('%s → %s', (text, kind) => {
    expect(classifyFrame(Buffer.from(text), false).kind).toBe(kind);
  });

  it('a binary frame is invalid, whatever it holds', () => {
    expect(classifyFrame(Buffer.from('[2,"a","Heartbeat",{}]'), true)).toEqual({ kind: 'invalid', head: undefined });
  });

  it('a payload 10,000 levels deep does not stop the head from being read', () => {
    const deep = `[3,"deep",${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}]`;
    expect(classifyFrame(Buffer.from(deep), false)).toMatchObject({ kind: 'callresult', head: { id: 'deep' } });
  });
});

import { describe, expect, it } from 'vitest';
import { claimFromSiblings } from '../../../src/admission/steps/claim-from-siblings.js';
import type { SessionCoordinator } from '../../../src/cluster/coordinator.js';
import { fakeHandshake } from '../fake-handshake.js';

/** A coordinator whose claims wait until the test grants them. */
function fakeCoordinator() {
  const claims: string[] = [];
  const ended: string[] = [];
  let grant: () => void = () => {};
  const coordinator: SessionCoordinator = {
    claim(identity) {
      claims.push(identity);
      return new Promise<void>((resolve) => {
        grant = resolve;
      });
    },
    ended: (identity) => void ended.push(identity),
    onRelease: () => {},
    close: () => {},
  };
  return { coordinator, claims, ended, grant: () => grant() };
}

function identifiedHandshake() {
  const { handshake } = fakeHandshake();
  handshake.charger = { identity: 'CP-1', urlSegment: 'CP-1' };
  return handshake;
}

describe('claimFromSiblings', () => {
  it('waits until the siblings let go of the identity', async () => {
    const { coordinator, claims, grant } = fakeCoordinator();
    const handshake = identifiedHandshake();
    let done = false;
    const claiming = Promise.resolve(claimFromSiblings(coordinator, () => false)(handshake, handshake.signal)).then(() => {
      done = true;
    });
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(claims).toEqual(['CP-1']);
    expect(done).toBe(false);
    grant();
    await claiming;
    expect(done).toBe(true);
  });

  it('gives the claim back when the charger is abandoned and no session here serves it', async () => {
    const { coordinator, ended, grant } = fakeCoordinator();
    const handshake = identifiedHandshake();
    const claiming = claimFromSiblings(coordinator, () => false)(handshake, handshake.signal);
    grant();
    await claiming;
    handshake.abandon();
    expect(ended).toEqual(['CP-1']);
  });

  it('keeps the claim when an older session here still serves the identity', async () => {
    const { coordinator, ended, grant } = fakeCoordinator();
    const handshake = identifiedHandshake();
    const claiming = claimFromSiblings(coordinator, (identity) => identity === 'CP-1')(handshake, handshake.signal);
    grant();
    await claiming;
    handshake.abandon();
    expect(ended).toEqual([]);
  });

  it('claims nothing for a charger that already left', async () => {
    const { coordinator, claims, ended } = fakeCoordinator();
    const handshake = identifiedHandshake();
    handshake.cancel();
    await claimFromSiblings(coordinator, () => false)(handshake, handshake.signal);
    handshake.abandon();
    expect(claims).toEqual([]);
    expect(ended).toEqual([]);
  });
});

import { afterEach, expect, it } from 'vitest';
import { callResultFrame, closeAll, connectRawCharger, startProxy, startRawCsms } from '../support/harness.js';

afterEach(closeAll);

it('mirrors a charger CALL byte for byte to two secondaries, answers stay with their CSMS', async () => {
  const primary = await startRawCsms();
  const answerAll = ({ id }: { id: string }) => callResultFrame(id, { currentTime: '2026-01-01T00:00:00Z' });
  const s1 = await startRawCsms({ answer: answerAll });
  const s2 = await startRawCsms({ answer: answerAll });
  const { url } = await startProxy(primary.url, { secondary_csms: [{ url: s1.url, name: 'one' }, { url: s2.url, name: 'two' }] });
  const charger = await connectRawCharger(url('/CP-MIRROR'));
  const primaryPeer = await primary.nextPeer();
  const [p1, p2] = await Promise.all([s1.nextPeer(), s2.nextPeer()]);
  const frame = '[2, "hb-1", "Heartbeat", {}]';
  charger.socket.send(frame);
  expect((await primaryPeer.nextFrame()).data.toString()).toBe(frame);
  expect((await p1.nextFrame()).data.toString()).toBe(frame);
  expect((await p2.nextFrame()).data.toString()).toBe(frame);
  primaryPeer.socket.send(callResultFrame('hb-1', { currentTime: '2026-01-01T00:00:00Z' }));
  expect(JSON.parse((await charger.nextFrame()).data.toString())).toEqual([3, 'hb-1', { currentTime: '2026-01-01T00:00:00Z' }]);
  // The secondaries' answers never reach the charger.
  charger.socket.send('[2,"hb-2","Heartbeat",{}]');
  await p1.nextFrame();
  await p2.nextFrame();
  primaryPeer.socket.send(callResultFrame('hb-2', { currentTime: '2026-01-01T00:00:01Z' }));
  expect((JSON.parse((await charger.nextFrame()).data.toString()) as unknown[])[1]).toBe('hb-2');
  expect(charger.frames).toHaveLength(2);
});

/**
 * The routing rules of the issue, each shown with ocpp-rpc in strict mode on
 * every side: the charger, the primary and both secondaries validate every
 * payload against the official OCPP schemas, so a rewrite that produced an
 * invalid message would fail these tests.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RPCClient } from 'ocpp-rpc';
import {
  callResultFrame,
  closeAll,
  connectRawCharger,
  onCleanup,
  startProxy,
  startRawCsms,
  startRpcCsms,
  type RpcCsms,
  type RpcServerClient,
} from '../support/harness.js';

afterEach(closeAll);

type Params = Record<string, unknown>;
interface Seen {
  method: string;
  params: Params;
  messageId: string;
}

/** Answers `handlers` on a server-side client and records every call it gets. */
function serve(client: RpcServerClient, handlers: Record<string, (params: Params) => unknown>) {
  const seen: Seen[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  for (const [method, handler] of Object.entries(handlers)) {
    client.handle(method, (call) => {
      const { params, messageId } = call as unknown as { params: Params; messageId: string };
      seen.push({ method, params, messageId });
      for (const waiter of waiters.filter((w) => seen.length >= w.count)) waiter.resolve();
      return Promise.resolve(handler(params));
    });
  }
  return {
    seen,
    until: (count: number) =>
      seen.length >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve })),
    of: (method: string) => seen.filter((call) => call.method === method),
  };
}

type ClientOptions = ConstructorParameters<typeof RPCClient>[0];
function rpcCharger(endpoint: string, identity: string, protocols: string[], password?: string): RPCClient {
  // ocpp-rpc's typings mark every option required although all have defaults.
  const options: Partial<ClientOptions> & { reconnect: boolean } = { endpoint, identity, protocols, strictMode: true, password: password ?? null, reconnect: false };
  const client = new RPCClient(options as ClientOptions);
  onCleanup(() => client.close({ force: true }));
  return client;
}

const now = (): string => new Date().toISOString();

const CSMS16 = (transactionId: number): Record<string, (params: Params) => unknown> => ({
  BootNotification: () => ({ status: 'Accepted', currentTime: now(), interval: 300 }),
  Heartbeat: () => ({ currentTime: now() }),
  StatusNotification: () => ({}),
  Authorize: () => ({ idTagInfo: { status: 'Accepted' } }),
  StartTransaction: () => ({ transactionId, idTagInfo: { status: 'Accepted' } }),
  MeterValues: () => ({}),
  StopTransaction: () => ({}),
});

const CSMS201: Record<string, (params: Params) => unknown> = {
  BootNotification: () => ({ status: 'Accepted', currentTime: now(), interval: 300 }),
  Heartbeat: () => ({ currentTime: now() }),
  Authorize: () => ({ idTokenInfo: { status: 'Accepted' } }),
  TransactionEvent: () => ({}),
  StatusNotification: () => ({}),
};

interface Rig {
  charger: RPCClient;
  primary: ReturnType<typeof serve>;
  primaryClient: RpcServerClient;
  s1: ReturnType<typeof serve>;
  s1Client: RpcServerClient;
  s2: ReturnType<typeof serve>;
  s2Client: RpcServerClient;
  s2Csms: RpcCsms;
}

/** A charger, a primary and two secondaries, all strict ocpp-rpc; secondary two has a charger_map entry. */
async function rig(protocol: 'ocpp1.6' | 'ocpp2.0.1', extra: Record<string, unknown> = {}): Promise<Rig> {
  const v16 = protocol === 'ocpp1.6';
  const primaryCsms = await startRpcCsms([protocol]);
  const s1Csms = await startRpcCsms([protocol]);
  const s2Csms = await startRpcCsms([protocol]);
  const { url } = await startProxy(primaryCsms.url, {
    secondary_csms: [
      { url: s1Csms.url, name: 'analytics' },
      {
        url: s2Csms.url,
        name: 'migration',
        charger_map: [{ charger_id: 'CP-R', mapped_charger_id: 'ext-CP-R', password: 'secondary-password-1', id_tag: 'HARDCODED-TAG' }],
      },
    ],
    log_level: 'info',
    ...extra,
  });
  const [primaryClient, s1Client, s2Client] = [primaryCsms.nextClient(), s1Csms.nextClient(), s2Csms.nextClient()];
  const charger = rpcCharger(url('/ocpp/CP-R'), 'CP-R', [protocol], 'charger-password-16');
  const clients = await Promise.all([charger.connect().then(() => primaryClient), s1Client, s2Client]);
  const [p, c1, c2] = clients;
  return {
    charger,
    primaryClient: p,
    primary: serve(p, v16 ? CSMS16(100) : CSMS201),
    s1Client: c1,
    s1: serve(c1, v16 ? CSMS16(555) : CSMS201),
    s2Client: c2,
    s2: serve(c2, v16 ? CSMS16(777) : CSMS201),
    s2Csms,
  };
}

describe('OCPP 1.6', () => {
  it('mirrors every charger CALL to every secondary; the charger gets only the primary’s answers', async () => {
    const { charger, primary, s1, s2 } = await rig('ocpp1.6');
    const boot = await charger.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'Volt' });
    expect(boot).toMatchObject({ status: 'Accepted', interval: 300 });
    await charger.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    await charger.call('Heartbeat', {});
    await Promise.all([s1.until(3), s2.until(3)]);
    for (const server of [primary, s1, s2]) {
      expect(server.seen.map((call) => call.method)).toEqual(['BootNotification', 'StatusNotification', 'Heartbeat']);
      expect(server.seen[0]?.params).toEqual({ chargePointVendor: 'Acme', chargePointModel: 'Volt' });
    }
  });

  it('charger_map: the mapped id, its own password and its id_tag for that secondary only', async () => {
    const { charger, primary, s1, s2, s2Csms } = await rig('ocpp1.6');
    expect(s2Csms.clients[0]).toMatchObject({ identity: 'ext-CP-R', password: 'secondary-password-1' });
    await charger.call('Authorize', { idTag: 'CHARGER-TAG' });
    await Promise.all([s1.until(1), s2.until(1)]);
    expect(primary.of('Authorize')[0]?.params).toEqual({ idTag: 'CHARGER-TAG' });
    expect(s1.of('Authorize')[0]?.params).toEqual({ idTag: 'CHARGER-TAG' });
    expect(s2.of('Authorize')[0]?.params).toEqual({ idTag: 'HARDCODED-TAG' });
  });

  it('never sends the charger’s password to a ws:// secondary unless forward_authorization: true (issue 11, finding 4)', async () => {
    const primaryCsms = await startRpcCsms(['ocpp1.6']);
    const secondary = await startRpcCsms(['ocpp1.6']);
    const { url, logs } = await startProxy(primaryCsms.url, { secondary_csms: [{ url: secondary.url }] });
    const connected = secondary.nextClient();
    await rpcCharger(url('/CP-NOFWD'), 'CP-NOFWD', ['ocpp1.6'], 'charger-password-16').connect();
    await connected;
    expect(primaryCsms.clients[0]).toMatchObject({ identity: 'CP-NOFWD', password: 'charger-password-16' });
    expect(secondary.clients[0]).toMatchObject({ identity: 'CP-NOFWD', password: undefined });
    expect(logs.lines.filter((line) => String(line.msg).startsWith('secondary receives the chargers'))).toEqual([]);
  });

  it('forwards the charger’s Authorization header where forward_authorization: true, and says so at start', async () => {
    const primaryCsms = await startRpcCsms(['ocpp1.6']);
    const secondary = await startRpcCsms(['ocpp1.6']);
    const { url, logs } = await startProxy(primaryCsms.url, { secondary_csms: [{ url: secondary.url, name: 'trusted', forward_authorization: true }] });
    expect(await logs.waitFor("secondary receives the chargers' credentials in plain text (forward_authorization: true over ws://)")).toMatchObject({
      level: 'warn',
      secondary: 'trusted',
      plaintext: true,
    });
    const connected = secondary.nextClient();
    await rpcCharger(url('/CP-FWD'), 'CP-FWD', ['ocpp1.6'], 'charger-password-16').connect();
    await connected;
    expect(secondary.clients[0]).toMatchObject({ identity: 'CP-FWD', password: 'charger-password-16' });
  });

  it('maps each secondary’s own transactionId into MeterValues and StopTransaction', async () => {
    const { charger, primary, s1, s2 } = await rig('ocpp1.6');
    const started = (await charger.call('StartTransaction', { connectorId: 1, idTag: 'CHARGER-TAG', meterStart: 0, timestamp: now() })) as { transactionId: number };
    expect(started.transactionId).toBe(100);
    await charger.call('MeterValues', { connectorId: 1, transactionId: 100, meterValue: [{ timestamp: now(), sampledValue: [{ value: '10' }] }] });
    await charger.call('StopTransaction', { transactionId: 100, meterStop: 20, timestamp: now() });
    await Promise.all([s1.until(3), s2.until(3)]);
    expect(primary.of('MeterValues')[0]?.params.transactionId).toBe(100);
    expect(s1.of('MeterValues')[0]?.params.transactionId).toBe(555);
    expect(s2.of('MeterValues')[0]?.params.transactionId).toBe(777);
    expect(primary.of('StopTransaction')[0]?.params.transactionId).toBe(100);
    expect(s1.of('StopTransaction')[0]?.params.transactionId).toBe(555);
    expect(s2.of('StopTransaction')[0]?.params.transactionId).toBe(777);
    expect(s2.of('StartTransaction')[0]?.params.idTag).toBe('HARDCODED-TAG');
    expect(s1.of('StartTransaction')[0]?.params.idTag).toBe('CHARGER-TAG');
  });

  it('a secondary’s TriggerMessage and GetConfiguration reach the charger and only that secondary gets the answer', async () => {
    const { charger, s1Client, s2, primary } = await rig('ocpp1.6');
    const seenByCharger: string[] = [];
    charger.handle('TriggerMessage', (call) => {
      seenByCharger.push((call as unknown as { messageId: string }).messageId);
      return Promise.resolve({ status: 'Accepted' });
    });
    charger.handle('GetConfiguration', () => Promise.resolve({ configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }] }));
    await expect(s1Client.call('TriggerMessage', { requestedMessage: 'Heartbeat' })).resolves.toEqual({ status: 'Accepted' });
    await expect(s1Client.call('GetConfiguration', { key: ['HeartbeatInterval'] })).resolves.toEqual({
      configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }],
    });
    // The proxy's message id toward the charger is a fresh UUID, never the secondary's.
    expect(seenByCharger[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(s2.seen).toHaveLength(0);
    expect(primary.seen).toHaveLength(0);
  });

  it('a secondary’s RemoteStartTransaction is accepted locally; its idTag goes into the next start and that stop, to it only', async () => {
    const { charger, primary, s1, s1Client, s2 } = await rig('ocpp1.6');
    let chargerSawRemoteStart = false;
    charger.handle('RemoteStartTransaction', () => {
      chargerSawRemoteStart = true;
      return Promise.resolve({ status: 'Rejected' });
    });
    await expect(s1Client.call('RemoteStartTransaction', { idTag: 'REMOTE-TAG', connectorId: 1 })).resolves.toEqual({ status: 'Accepted' });
    await charger.call('StartTransaction', { connectorId: 1, idTag: 'CHARGER-TAG', meterStart: 0, timestamp: now() });
    await charger.call('StopTransaction', { transactionId: 100, meterStop: 5, timestamp: now(), idTag: 'CHARGER-TAG' });
    await Promise.all([s1.until(2), s2.until(2)]);
    expect(chargerSawRemoteStart).toBe(false);
    expect(s1.of('StartTransaction')[0]?.params.idTag).toBe('REMOTE-TAG');
    expect(s1.of('StopTransaction')[0]?.params).toMatchObject({ idTag: 'REMOTE-TAG', transactionId: 555 });
    expect(primary.of('StartTransaction')[0]?.params.idTag).toBe('CHARGER-TAG');
    // Secondary two has its own charger_map id_tag; the remote start of secondary one is not its business.
    expect(s2.of('StartTransaction')[0]?.params.idTag).toBe('HARDCODED-TAG');
    // Only the next start takes it.
    await charger.call('StartTransaction', { connectorId: 1, idTag: 'CHARGER-TAG', meterStart: 5, timestamp: now() });
    await s1.until(3);
    expect(s1.of('StartTransaction')[1]?.params.idTag).toBe('CHARGER-TAG');
  });

  it.each(['Reset', 'ChangeConfiguration', 'RemoteStopTransaction', 'UnlockConnector', 'ClearCache'])(
    'any other command from a secondary (%s) gets NotSupported and never reaches the charger',
    async (action) => {
      const { charger, s1Client } = await rig('ocpp1.6');
      let reached = false;
      charger.handle(action, () => {
        reached = true;
        return Promise.resolve({ status: 'Accepted' });
      });
      const payloads: Record<string, Params> = {
        Reset: { type: 'Hard' },
        ChangeConfiguration: { key: 'AuthorizationKey', value: 'x'.repeat(20) },
        RemoteStopTransaction: { transactionId: 100 },
        UnlockConnector: { connectorId: 1 },
        ClearCache: {},
      };
      await expect(s1Client.call(action, payloads[action])).rejects.toMatchObject({ rpcErrorCode: 'NotSupported' });
      await charger.call('Heartbeat', {});
      expect(reached).toBe(false);
    },
  );
});

describe('OCPP 2.0.1', () => {
  const started = (idToken: string): Params => ({
    eventType: 'Started',
    timestamp: now(),
    triggerReason: 'Authorized',
    seqNo: 0,
    transactionInfo: { transactionId: 'tx-201' },
    idToken: { idToken, type: 'ISO14443' },
    evse: { id: 1, connectorId: 1 },
  });
  const ended = (): Params => ({
    eventType: 'Ended',
    timestamp: now(),
    triggerReason: 'StopAuthorized',
    seqNo: 1,
    transactionInfo: { transactionId: 'tx-201', stoppedReason: 'Local' },
    idToken: { idToken: 'CHARGER-TAG', type: 'ISO14443' },
  });

  it('mirrors TransactionEvents; charger_map id_tag replaces idToken.idToken for that secondary only', async () => {
    const { charger, primary, s1, s2 } = await rig('ocpp2.0.1');
    await charger.call('BootNotification', { reason: 'PowerUp', chargingStation: { model: 'Volt', vendorName: 'Acme' } });
    await charger.call('TransactionEvent', started('CHARGER-TAG'));
    await Promise.all([s1.until(2), s2.until(2)]);
    expect(primary.of('TransactionEvent')[0]?.params.idToken).toEqual({ idToken: 'CHARGER-TAG', type: 'ISO14443' });
    expect(s1.of('TransactionEvent')[0]?.params.idToken).toEqual({ idToken: 'CHARGER-TAG', type: 'ISO14443' });
    expect(s2.of('TransactionEvent')[0]?.params.idToken).toEqual({ idToken: 'HARDCODED-TAG', type: 'ISO14443' });
  });

  it('RequestStartTransaction is accepted locally; its idToken and remoteStartId go into the next Started and that Ended event', async () => {
    const { charger, s1, s1Client, primary } = await rig('ocpp2.0.1');
    let reached = false;
    charger.handle('RequestStartTransaction', () => {
      reached = true;
      return Promise.resolve({ status: 'Rejected' });
    });
    await expect(
      s1Client.call('RequestStartTransaction', { idToken: { idToken: 'REMOTE-TAG', type: 'Central' }, remoteStartId: 42, evseId: 1 }),
    ).resolves.toMatchObject({ status: 'Accepted' });
    await charger.call('TransactionEvent', started('CHARGER-TAG'));
    await charger.call('TransactionEvent', ended());
    await s1.until(2);
    expect(reached).toBe(false);
    const [start, end] = s1.of('TransactionEvent');
    expect(start?.params.idToken).toEqual({ idToken: 'REMOTE-TAG', type: 'Central' });
    expect(start?.params.transactionInfo).toMatchObject({ transactionId: 'tx-201', remoteStartId: 42 });
    expect(end?.params.idToken).toEqual({ idToken: 'REMOTE-TAG', type: 'Central' });
    expect(primary.of('TransactionEvent')[0]?.params.idToken).toEqual({ idToken: 'CHARGER-TAG', type: 'ISO14443' });
  });

  it('a secondary’s GetVariables and TriggerMessage reach the charger; SetVariables does not', async () => {
    const { charger, s1Client } = await rig('ocpp2.0.1');
    charger.handle('GetVariables', () =>
      Promise.resolve({
        getVariableResult: [{ attributeStatus: 'Accepted', attributeValue: '300', component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }],
      }),
    );
    charger.handle('TriggerMessage', () => Promise.resolve({ status: 'Accepted' }));
    let setReached = false;
    charger.handle('SetVariables', () => {
      setReached = true;
      return Promise.resolve({ setVariableResult: [] });
    });
    await expect(
      s1Client.call('GetVariables', { getVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }] }),
    ).resolves.toMatchObject({ getVariableResult: [{ attributeValue: '300' }] });
    await expect(s1Client.call('TriggerMessage', { requestedMessage: 'Heartbeat' })).resolves.toEqual({ status: 'Accepted' });
    await expect(
      s1Client.call('SetVariables', {
        setVariableData: [{ attributeValue: 'x', component: { name: 'SecurityCtrlr' }, variable: { name: 'BasicAuthPassword' } }],
      }),
    ).rejects.toMatchObject({ rpcErrorCode: 'NotSupported' });
    expect(setReached).toBe(false);
  });
});

describe('the call gate', () => {
  it('holds a secondary’s command while the primary’s CALL is outstanding, then re-addresses the answer', async () => {
    const primary = await startRawCsms();
    const secondary = await startRawCsms({ answer: ({ id }) => callResultFrame(id, {}) });
    const { url } = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url }] });
    const charger = await connectRawCharger(url('/CP-GATE'));
    const primaryPeer = await primary.nextPeer();
    const secondaryPeer = await secondary.nextPeer();

    primaryPeer.socket.send('[2,"p-1","GetConfiguration",{}]');
    expect((await charger.nextFrame()).data.toString()).toBe('[2,"p-1","GetConfiguration",{}]');
    secondaryPeer.socket.send('[2,"s-1","TriggerMessage",{"requestedMessage":"Heartbeat"}]');
    // Prove the secondary's call is held: a round trip through the charger's
    // other direction completes while the charger still has only one CALL.
    charger.socket.send('[2,"c-1","Heartbeat",{}]');
    await primaryPeer.nextFrame();
    primaryPeer.socket.send(callResultFrame('c-1', { currentTime: now() }));
    expect((JSON.parse((await charger.nextFrame()).data.toString()) as unknown[])[1]).toBe('c-1');
    expect(charger.frames).toHaveLength(2);

    charger.socket.send('[3,"p-1",{"configurationKey":[]}]');
    expect((await primaryPeer.nextFrame()).data.toString()).toBe('[3,"p-1",{"configurationKey":[]}]');
    const gated = JSON.parse((await charger.nextFrame()).data.toString()) as [number, string, string, Params];
    expect(gated[0]).toBe(2);
    expect(gated[1]).not.toBe('s-1');
    expect(gated[2]).toBe('TriggerMessage');
    charger.socket.send(JSON.stringify([3, gated[1], { status: 'Accepted' }]));
    await expect.poll(() => secondaryPeer.frames.some((frame) => frame.data.toString() === '[3,"s-1",{"status":"Accepted"}]')).toBe(true);
    // The primary never sees the answer to the proxy's CALL.
    charger.socket.send('[2,"c-2","Heartbeat",{}]');
    expect((await primaryPeer.nextFrame()).data.toString()).toBe('[2,"c-2","Heartbeat",{}]');
    // The secondary saw the charger's CALLs and its own answer, never the charger's answer to the primary.
    await expect.poll(() => secondaryPeer.frames.some((frame) => frame.data.toString().includes('"c-2"'))).toBe(true);
    const toSecondary = secondaryPeer.frames.map((frame) => frame.data.toString());
    expect(toSecondary.filter((text) => text.startsWith('[3') || text.startsWith('[4'))).toEqual(['[3,"s-1",{"status":"Accepted"}]']);
    expect(toSecondary.some((text) => text.includes('"p-1"'))).toBe(false);
  });

  it('a command the charger does not answer in time gets a CALLERROR', async () => {
    const primary = await startRawCsms();
    const secondary = await startRawCsms({ answer: ({ id }) => callResultFrame(id, {}) });
    const { url } = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url }], secondary_answer_timeout_ms: 300 });
    const charger = await connectRawCharger(url('/CP-SLOWCHARGER'));
    const secondaryPeer = await secondary.nextPeer();
    secondaryPeer.socket.send('[2,"s-slow","GetConfiguration",{}]');
    await charger.nextFrame();
    await expect
      .poll(() => secondaryPeer.frames.map((frame) => JSON.parse(frame.data.toString()) as unknown[]).find((frame) => frame[1] === 's-slow')?.slice(0, 4))
      .toEqual([4, 's-slow', 'GenericError', 'the charger did not answer within 300 ms']);
  });

  it('a late answer to a timed-out command reaches neither the secondary again nor the primary', async () => {
    const primary = await startRawCsms();
    const secondary = await startRawCsms({ answer: ({ id }) => callResultFrame(id, {}) });
    const { url } = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url }], secondary_answer_timeout_ms: 200 });
    const charger = await connectRawCharger(url('/CP-LATE'));
    const primaryPeer = await primary.nextPeer();
    const secondaryPeer = await secondary.nextPeer();
    secondaryPeer.socket.send('[2,"s-late","TriggerMessage",{"requestedMessage":"Heartbeat"}]');
    const gated = JSON.parse((await charger.nextFrame()).data.toString()) as [number, string];
    await expect.poll(() => secondaryPeer.frames.some((frame) => frame.data.toString().startsWith('[4,"s-late"'))).toBe(true);
    charger.socket.send(JSON.stringify([3, gated[1], { status: 'Accepted' }]));
    // A barrier: the next charger frame reaches the primary only after the late answer was handled.
    charger.socket.send('[2,"after-late","Heartbeat",{}]');
    expect((await primaryPeer.nextFrame()).data.toString()).toBe('[2,"after-late","Heartbeat",{}]');
    expect(primaryPeer.frames.map((frame) => frame.data.toString())).toEqual(['[2,"after-late","Heartbeat",{}]']);
    expect(secondaryPeer.frames.filter((frame) => frame.data.toString().includes('"s-late"'))).toHaveLength(1);
  });

  it('a command pending when the charger leaves gets a CALLERROR', async () => {
    const primary = await startRawCsms();
    const secondary = await startRawCsms();
    const { url } = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url }] });
    const charger = await connectRawCharger(url('/CP-LEAVING'));
    const secondaryPeer = await secondary.nextPeer();
    secondaryPeer.socket.send('[2,"s-gone","GetConfiguration",{}]');
    await charger.nextFrame();
    charger.socket.close(1000, 'bye');
    await expect
      .poll(() => secondaryPeer.frames.map((frame) => JSON.parse(frame.data.toString()) as unknown[]).find((frame) => frame[1] === 's-gone')?.slice(0, 4))
      .toEqual([4, 's-gone', 'GenericError', 'the charger is not connected']);
    expect((await secondaryPeer.closed).code).toBe(1001);
  });
});

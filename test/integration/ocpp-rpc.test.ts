/**
 * End to end with an independent OCPP implementation on both sides: ocpp-rpc in
 * strict mode validates every payload against the official schemas, so these
 * tests fail if the proxy alters, drops or misroutes anything.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RPCClient } from 'ocpp-rpc';
import { closeAll, onCleanup, startProxy, startRpcCsms } from '../support/harness.js';

afterEach(closeAll);

type ClientOptions = ConstructorParameters<typeof RPCClient>[0];

function charger(endpoint: string, identity: string, protocols: string[], password?: string): RPCClient {
  // ocpp-rpc's typings mark every option required although all have defaults.
  const options: Partial<ClientOptions> & { reconnect: boolean } = { endpoint, identity, protocols, strictMode: true, password: password ?? null, reconnect: false };
  const client = new RPCClient(options as ClientOptions);
  onCleanup(() => client.close({ force: true }));
  return client;
}

describe('OCPP 1.6 through the proxy (ocpp-rpc strict on both ends)', () => {
  it('carries calls both ways and negotiates the primary’s sub-protocol', async () => {
    const csms = await startRpcCsms(['ocpp1.6']);
    const { url } = await startProxy(csms.url);
    const connected = csms.nextClient();
    const cp = charger(url(''), 'CP-16', ['ocpp1.6']);
    cp.handle('GetConfiguration', () => Promise.resolve({ configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }] }));
    await cp.connect();
    expect(cp.protocol).toBe('ocpp1.6');

    const server = await connected;
    expect(server.identity).toBe('CP-16');
    server.handle('BootNotification', ({ params }) => {
      expect(params).toEqual({ chargePointVendor: 'Acme', chargePointModel: 'Volt' });
      return { status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 };
    });
    server.handle('Heartbeat', () => ({ currentTime: new Date().toISOString() }));

    const boot = await cp.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'Volt' });
    expect(boot).toMatchObject({ status: 'Accepted', interval: 300 });
    await expect(cp.call('Heartbeat', {})).resolves.toHaveProperty('currentTime');

    const config = await server.call('GetConfiguration', { key: ['HeartbeatInterval'] });
    expect(config).toEqual({ configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }] });
  });

  it('forwards the charger’s Basic auth credentials to the primary unchanged', async () => {
    const csms = await startRpcCsms(['ocpp1.6']);
    const { url } = await startProxy(csms.url);
    const cp = charger(url('/ocpp/CP-AUTH'), 'CP-AUTH', ['ocpp1.6'], 'sixteen-byte-key!');
    await cp.connect();
    expect(csms.clients[0]?.password).toBe('sixteen-byte-key!');
  });
});

describe('OCPP 2.0.1 through the proxy (ocpp-rpc strict on both ends)', () => {
  it('carries calls both ways', async () => {
    const csms = await startRpcCsms(['ocpp2.0.1']);
    const { url } = await startProxy(csms.url);
    const connected = csms.nextClient();
    const cp = charger(url('/ws/'), 'CS-201', ['ocpp2.0.1']);
    cp.handle('GetVariables', ({ params }) => {
      expect(params).toEqual({ getVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }] });
      return Promise.resolve({
        getVariableResult: [
          { attributeStatus: 'Accepted', attributeValue: '300', component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } },
        ],
      });
    });
    await cp.connect();
    expect(cp.protocol).toBe('ocpp2.0.1');
    const server = await connected;
    server.handle('BootNotification', () => ({ status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 }));

    const boot = await cp.call('BootNotification', { reason: 'PowerUp', chargingStation: { model: 'Volt', vendorName: 'Acme' } });
    expect(boot).toMatchObject({ status: 'Accepted' });
    const variables = await server.call('GetVariables', {
      getVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }],
    });
    expect(variables).toMatchObject({ getVariableResult: [{ attributeStatus: 'Accepted', attributeValue: '300' }] });
  });

  it('gives the charger the version the primary chose, not the charger’s first offer', async () => {
    const csms = await startRpcCsms(['ocpp1.6']);
    const { url } = await startProxy(csms.url);
    const cp = charger(url(''), 'CS-MULTI', ['ocpp2.0.1', 'ocpp1.6']);
    await cp.connect();
    expect(cp.protocol).toBe('ocpp1.6');
    expect(csms.clients[0]?.protocol).toBe('ocpp1.6');
  });
});

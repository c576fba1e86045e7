/**
 * The demo's simulated OCPP 1.6 charger: connects to the proxy like a real charger would, sends what the
 * scenario asks for one CALL at a time, and answers the commands that reach it (TriggerMessage,
 * GetConfiguration). Everything it sends is valid per the OCPP 1.6 JSON schemas.
 */
import { once } from 'node:events';
import { WebSocket } from 'ws';
import type { CallFrame } from '../ocpp/frame.js';
import { isPlainObject } from '../ocpp/frame.js';
import { OcppPeer } from './peer.js';
import type { Trace, WireRecord } from './trace.js';

export const DEMO_CONNECTOR_ID = 1;

export interface DemoChargerOptions {
  /** The proxy's URL including the charge point id: ws://127.0.0.1:<port>/<id>. */
  readonly url: string;
  readonly identity: string;
  readonly trace: Trace;
  readonly wire: WireRecord[];
  readonly answerTimeoutMs: number;
}

export interface DemoCharger {
  readonly peer: OcppPeer;
  /** Resolves when a TriggerMessage has made the charger send a message: its action, id and answer. */
  nextTriggered(): Promise<{ action: string; id: string; answer: Promise<unknown> }>;
  close(): Promise<void>;
}

/** Connects to the proxy with OCPP 1.6; rejects if the proxy refuses the handshake. */
export async function connectDemoCharger(options: DemoChargerOptions): Promise<DemoCharger> {
  const socket = new WebSocket(options.url, ['ocpp1.6']);
  const refused = new Promise<never>((_resolve, reject) => {
    socket.once('unexpected-response', (_request, response) => {
      response.resume();
      reject(new Error(`the proxy refused the charger with HTTP ${String(response.statusCode)}`));
    });
    socket.once('error', reject);
  });
  await Promise.race([once(socket, 'open'), refused]);
  // From here on errors surface as a close; the scenario notices through failed calls.
  socket.on('error', () => socket.terminate());

  const peer = new OcppPeer({
    socket,
    self: 'charger',
    remote: 'proxy',
    identity: options.identity,
    trace: options.trace,
    wire: options.wire,
    idPrefix: 'c',
    answerTimeoutMs: options.answerTimeoutMs,
  });

  const triggered: Array<(sent: { action: string; id: string; answer: Promise<unknown> }) => void> = [];
  peer.handle('TriggerMessage', (trigger) => {
    const requested = stringField(trigger, 'requestedMessage');
    const message = requested === undefined ? undefined : triggerableMessage(requested);
    if (message === undefined) return { payload: { status: 'NotImplemented' } };
    return {
      payload: { status: 'Accepted' },
      // OCPP 1.6 §5.17: the charger answers the trigger first, then sends the requested message.
      afterAnswer: () => {
        const { id, answer } = peer.send(message.action, message.payload);
        // The scenario looks at the answer; a rejection here is only the scenario's to report.
        answer.catch(() => undefined);
        triggered.shift()?.({ action: message.action, id, answer });
      },
    };
  });
  peer.handle('GetConfiguration', () => ({
    payload: {
      configurationKey: [
        { key: 'HeartbeatInterval', readonly: false, value: '300' },
        { key: 'NumberOfConnectors', readonly: true, value: '1' },
        { key: 'MeterValuesSampledData', readonly: false, value: 'Energy.Active.Import.Register' },
      ],
    },
  }));
  // A real charger would start charging; the demo charger reports it, so the trace shows if one ever arrives.
  peer.handle('RemoteStartTransaction', () => ({ payload: { status: 'Rejected' } }));

  return {
    peer,
    nextTriggered: () => new Promise((resolve) => triggered.push(resolve)),
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      const closed = once(socket, 'close');
      peer.close();
      await closed;
    },
  };
}

/** The demo charger's own idea of "now" in OCPP's format. */
export function timestamp(): string {
  return new Date().toISOString();
}

export function statusNotification(status: string): Record<string, unknown> {
  return { connectorId: DEMO_CONNECTOR_ID, errorCode: 'NoError', status, timestamp: timestamp() };
}

function triggerableMessage(requested: string): { action: string; payload: Record<string, unknown> } | undefined {
  switch (requested) {
    case 'StatusNotification':
      return { action: 'StatusNotification', payload: statusNotification('Available') };
    case 'Heartbeat':
      return { action: 'Heartbeat', payload: {} };
    case 'BootNotification':
      return { action: 'BootNotification', payload: BOOT_NOTIFICATION };
    default:
      return undefined;
  }
}

export const BOOT_NOTIFICATION: Readonly<Record<string, unknown>> = {
  chargePointVendor: 'ocpp-splitter',
  chargePointModel: 'Demo Charger',
  chargePointSerialNumber: 'DEMO-0001',
  firmwareVersion: '1.0.0',
};

function stringField(call: CallFrame, key: string): string | undefined {
  const value = isPlainObject(call.payload) ? call.payload[key] : undefined;
  return typeof value === 'string' ? value : undefined;
}

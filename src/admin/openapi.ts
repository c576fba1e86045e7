/**
 * The OpenAPI 3.1 description of the admin listener, served at /api/openapi.json. test/admin/openapi.test.ts
 * checks that it names exactly the server's routes and that real answers match its schemas.
 */
import { VERSION } from '../version.js';

const nullable = (schema: Record<string, unknown>): Record<string, unknown> => ({ oneOf: [schema, { type: 'null' }] });
const string = { type: 'string' } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const count = { type: 'integer', minimum: 0 } as const;

const ref = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });

const schemas = {
  Error: { type: 'object', required: ['error'], properties: { error: string } },
  Status: {
    type: 'object',
    required: ['version', 'uptime_s', 'started_at', 'store', 'config', 'counts', 'frames_total', 'handshakes'],
    properties: {
      version: string,
      uptime_s: count,
      started_at: dateTime,
      store: nullable({
        type: 'object',
        required: ['engine', 'backlog_read_at', 'backlog_error'],
        properties: {
          engine: string,
          backlog_read_at: { ...nullable(dateTime), description: 'When the outbox counts were read from the store (cached a few seconds).' },
          backlog_error: { ...nullable(string), description: 'Why the last read failed; the counts are then those of backlog_read_at.' },
        },
      }),
      config: {
        type: 'object',
        description: 'The configuration that matters for operating the proxy; URLs redacted, no secrets.',
        required: ['port', 'host', 'primary_csms_url', 'secondaries', 'workers', 'admin_port', 'log_level', 'data_dir'],
        properties: {
          port: count,
          host: nullable(string),
          primary_csms_url: string,
          secondaries: { type: 'array', items: { type: 'object', required: ['name', 'url'], properties: { name: string, url: string } } },
          workers: { oneOf: [count, { const: 'auto' }] },
          admin_port: count,
          log_level: string,
          data_dir: string,
        },
      },
      counts: {
        type: 'object',
        required: ['chargers', 'pending_handshakes', 'secondaries', 'secondaries_paused', 'links_connected', 'outbox_messages', 'outbox_bytes'],
        properties: {
          chargers: count,
          pending_handshakes: count,
          secondaries: count,
          secondaries_paused: count,
          links_connected: count,
          outbox_messages: count,
          outbox_bytes: count,
        },
      },
      frames_total: {
        type: 'object',
        description: 'Frames received since start, by source.',
        required: ['charger', 'primary', 'secondary'],
        properties: { charger: count, primary: count, secondary: count },
        additionalProperties: false,
      },
      handshakes: { type: 'object', description: 'Charger upgrade requests since start, by result.', additionalProperties: count },
    },
  },
  SecondaryOfCharger: {
    type: 'object',
    required: ['name', 'state', 'outbox_messages', 'outbox_bytes', 'oldest_age_s'],
    properties: {
      name: string,
      state: { enum: ['connecting', 'open', 'waiting', 'paused', 'closed'] },
      outbox_messages: count,
      outbox_bytes: count,
      oldest_age_s: nullable(count),
    },
  },
  Charger: {
    type: 'object',
    required: ['id', 'protocol', 'remote_address', 'connected_at', 'last_frame_at', 'primary', 'secondaries'],
    properties: {
      id: string,
      protocol: string,
      remote_address: nullable(string),
      connected_at: dateTime,
      last_frame_at: nullable(dateTime),
      primary: { type: 'object', required: ['state'], properties: { state: { enum: ['open', 'closing', 'closed'] } } },
      secondaries: { type: 'array', items: ref('SecondaryOfCharger') },
    },
  },
  Frame: {
    type: 'object',
    required: ['at', 'charger', 'leg', 'secondary', 'direction', 'message_type', 'type', 'message_id', 'action', 'bytes', 'body'],
    properties: {
      at: dateTime,
      charger: string,
      leg: { enum: ['charger', 'primary', 'secondary'] },
      secondary: nullable(string),
      direction: { enum: ['in', 'out'], description: 'in: the proxy received it on that leg; out: the proxy sent it on that leg.' },
      message_type: nullable({ enum: [2, 3, 4, 5, 6] }),
      type: { enum: ['call', 'callresult', 'callerror', 'callresulterror', 'send', 'invalid'] },
      message_id: nullable(string),
      action: nullable(string),
      bytes: count,
      body: { type: 'string', description: 'The frame as text, redacted like the logs (credential-carrying frames are withheld), cut at 64 KiB.' },
    },
  },
  ChargerDetail: {
    allOf: [
      ref('Charger'),
      {
        type: 'object',
        required: ['recent_frames'],
        properties: {
          recent_frames: {
            type: 'array',
            items: ref('Frame'),
            description:
              'The last 16 frames, oldest first, recorded from the first request for this charger until 10 minutes after the last one (so the first answer may have none). A frame passed on unchanged between the charger and the primary is listed once, on the leg it arrived on (the live stream shows it on both); one over 2 KiB by its head and size only.',
          },
        },
      },
    ],
  },
  SecondaryError: {
    type: 'object',
    required: ['at', 'charger', 'message'],
    properties: { at: dateTime, charger: string, message: string },
  },
  Secondary: {
    type: 'object',
    required: ['name', 'url', 'paused', 'links_connected', 'outbox_messages', 'outbox_bytes', 'oldest_age_s', 'delivered_total', 'dropped_total', 'last_error', 'recent_errors'],
    properties: {
      name: string,
      url: { type: 'string', description: 'Redacted: no credentials, no query string.' },
      paused: { type: 'boolean' },
      links_connected: count,
      outbox_messages: count,
      outbox_bytes: count,
      oldest_age_s: nullable(count),
      delivered_total: count,
      dropped_total: count,
      last_error: nullable(ref('SecondaryError')),
      recent_errors: { type: 'array', items: ref('SecondaryError') },
    },
  },
  Disconnected: { type: 'object', required: ['id', 'disconnected'], properties: { id: string, disconnected: { const: true } } },
  Paused: { type: 'object', required: ['name', 'paused'], properties: { name: string, paused: { type: 'boolean' } } },
} as const;

const json = (schema: unknown, description: string): Record<string, unknown> => ({ description, content: { 'application/json': { schema } } });
const errors = {
  '401': json(ref('Error'), 'No valid Bearer token (admin_token).'),
  '403': json(ref('Error'), 'Refused: a cross-site request, or a Host that does not name this machine.'),
};
const idParameter = { name: 'id', in: 'path', required: true, description: 'The charge point id, percent-encoded.', schema: string };
const nameParameter = { name: 'name', in: 'path', required: true, description: 'The secondary\'s name (its `name`, else its redacted URL), percent-encoded.', schema: string };

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'ocpp-splitter admin API',
      version: VERSION,
      description: 'Status, live events and actions of an ocpp-splitter proxy, on its admin listener (admin_port).',
    },
    components: {
      schemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'admin_token; not needed over loopback without a token, nor from admin_trusted_addresses.' } },
    },
    security: [{ bearer: [] }, {}],
    paths: {
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics (text exposition format).',
          responses: { '200': { description: 'Metrics.', content: { 'text/plain': { schema: string } } }, ...errors },
        },
      },
      '/api/status': {
        get: { operationId: 'getStatus', summary: 'Version, uptime, configuration summary and counts.', responses: { '200': json(ref('Status'), 'Status.'), ...errors } },
      },
      '/api/chargers': {
        get: {
          operationId: 'listChargers',
          summary: 'Connected chargers.',
          responses: { '200': json({ type: 'array', items: ref('Charger') }, 'Chargers, by id.'), ...errors },
        },
      },
      '/api/chargers/{id}': {
        get: {
          operationId: 'getCharger',
          summary: 'One connected charger, with its recent frames.',
          parameters: [idParameter],
          responses: { '200': json(ref('ChargerDetail'), 'The charger.'), '404': json(ref('Error'), 'Not connected.'), ...errors },
        },
      },
      '/api/chargers/{id}/disconnect': {
        post: {
          operationId: 'disconnectCharger',
          summary: 'Closes the charger\'s connection and its primary connection (1001); the charger reconnects by itself.',
          parameters: [idParameter],
          responses: { '202': json(ref('Disconnected'), 'Closing.'), '404': json(ref('Error'), 'Not connected.'), ...errors },
        },
      },
      '/api/secondaries': {
        get: {
          operationId: 'listSecondaries',
          summary: 'Configured secondaries: health, backlog, counters, recent errors.',
          responses: { '200': json({ type: 'array', items: ref('Secondary') }, 'Secondaries, in configuration order.'), ...errors },
        },
      },
      '/api/secondaries/{name}/pause': {
        post: {
          operationId: 'pauseSecondary',
          summary: 'Stops delivering to this secondary for every charger; its messages keep being stored durably.',
          parameters: [nameParameter],
          responses: { '200': json(ref('Paused'), 'Paused.'), '404': json(ref('Error'), 'No such secondary.'), ...errors },
        },
      },
      '/api/secondaries/{name}/resume': {
        post: {
          operationId: 'resumeSecondary',
          summary: 'Delivers to this secondary again, its stored backlog first.',
          parameters: [nameParameter],
          responses: { '200': json(ref('Paused'), 'Resumed.'), '404': json(ref('Error'), 'No such secondary.'), ...errors },
        },
      },
      '/api/events': {
        get: {
          operationId: 'events',
          summary: 'Server-Sent Events: `frame` (a Frame), `session` ({type, charger, protocol}), `link` ({charger, secondary, state, reason}), `dropped` ({count}).',
          parameters: [
            { name: 'charger', in: 'query', required: false, description: 'Only this charger.', schema: string },
            { name: 'leg', in: 'query', required: false, description: 'Only frames on this leg: charger, primary, or a secondary\'s name.', schema: string },
          ],
          responses: {
            '200': { description: 'The stream.', content: { 'text/event-stream': { schema: string } } },
            '503': json(ref('Error'), 'Too many streams open.'),
            ...errors,
          },
        },
      },
      '/api/openapi.json': {
        get: { operationId: 'openapi', summary: 'This document.', responses: { '200': { description: 'OpenAPI 3.1.', content: { 'application/json': { schema: { type: 'object' } } } } } },
      },
    },
  };
}

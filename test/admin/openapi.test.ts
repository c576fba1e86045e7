/**
 * /api/openapi.json is the API as served: the same routes, and real answers valid against its schemas.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../src/admin/openapi.js';
import { answers16, closeAll, connectRawCharger, exchange, ocpp16, startAdmin, startProxy, startRawCsms } from '../support/harness.js';
import { createRequire } from 'node:module';

afterEach(closeAll);

type OpenApi = ReturnType<typeof openApiDocument> & {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
  components: { schemas: Record<string, unknown> };
};

const document = openApiDocument() as OpenApi;

interface Validator {
  (data: unknown): boolean;
  errors?: unknown[] | null;
}
interface Ajv {
  compile(schema: object): Validator;
  addFormat(name: string, format: RegExp): Ajv;
  errorsText(errors?: unknown[] | null): string;
}
// The ajv 8 (draft 2020-12, OpenAPI 3.1's dialect) that ocpp-rpc brings along, in strict mode: an unknown keyword fails.
const Ajv2020 = (createRequire(import.meta.url)('ocpp-rpc/node_modules/ajv/dist/2020') as { default: new (options: object) => Ajv }).default;
const ajv = new Ajv2020({ allErrors: true, strict: true }).addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);

/** A validator for the JSON answer of one operation and status, its #/components/schemas refs resolved. */
function validatorFor(path: string, method: string, status: string): (value: unknown) => string | undefined {
  const schema = document.paths[path]?.[method]?.responses[status]?.content?.['application/json']?.schema;
  if (schema === undefined) throw new Error(`no JSON schema for ${method} ${path} ${status}`);
  const rooted = JSON.parse(JSON.stringify({ ...(schema as object), $defs: document.components.schemas }).replaceAll('#/components/schemas/', '#/$defs/')) as object;
  const validate = ajv.compile(rooted);
  return (value) => (validate(value) ? undefined : ajv.errorsText(validate.errors));
}

describe('the OpenAPI document', () => {
  it('names exactly the routes the server serves', async () => {
    const primary = await startRawCsms();
    const { admin } = await startAdmin(await startProxy(primary.url));
    const documented = Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
    expect([...admin.endpoints].sort()).toEqual(documented.sort());
  });

  it('is served at /api/openapi.json', async () => {
    const primary = await startRawCsms();
    const admin = await startAdmin(await startProxy(primary.url));
    const served: unknown = await (await fetch(admin.url('/api/openapi.json'))).json();
    expect(served).toEqual(JSON.parse(JSON.stringify(document)));
  });

  it('describes the real answers of every JSON endpoint', async () => {
    const primary = await startRawCsms({ answer: answers16(3) });
    const secondary = await startRawCsms({ answer: answers16(4) });
    const started = await startProxy(primary.url, { secondary_csms: [{ url: secondary.url, name: 'energy' }] });
    const admin = await startAdmin(started);
    const charger = await connectRawCharger(started.url('/CP-DOC'));
    await exchange(charger, ocpp16.boot('b1'));
    await exchange(charger, ocpp16.heartbeat('h1'));
    const checks: Array<[string, string, string, string, RequestInit?]> = [
      ['/api/status', '/api/status', 'get', '200'],
      ['/api/chargers', '/api/chargers', 'get', '200'],
      ['/api/chargers/CP-DOC', '/api/chargers/{id}', 'get', '200'],
      ['/api/chargers/NOPE', '/api/chargers/{id}', 'get', '404'],
      ['/api/secondaries', '/api/secondaries', 'get', '200'],
      ['/api/secondaries/energy/pause', '/api/secondaries/{name}/pause', 'post', '200', { method: 'POST' }],
      ['/api/secondaries/energy/resume', '/api/secondaries/{name}/resume', 'post', '200', { method: 'POST' }],
      ['/api/secondaries/nope/pause', '/api/secondaries/{name}/pause', 'post', '404', { method: 'POST' }],
      ['/api/chargers/CP-DOC/disconnect', '/api/chargers/{id}/disconnect', 'post', '202', { method: 'POST' }],
    ];
    for (const [url, path, method, status, init] of checks) {
      const response = await fetch(admin.url(url), init);
      expect(String(response.status), url).toBe(status);
      const problem = validatorFor(path, method, status)(await response.json());
      expect(problem, `${method.toUpperCase()} ${url}`).toBeUndefined();
    }
  });
});

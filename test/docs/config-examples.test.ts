/**
 * config.schema.json is generated from the config schema and must stay in sync with it; both config examples
 * must be valid for editors (the JSON Schema) and for the proxy (the zod schema, through the real loader).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, configJsonSchemaText } from '../../src/config/json-schema.js';
import { resolveConfig } from '../../src/config/load.js';
import { compileJsonSchema } from '../support/json-schema.js';

const root = new URL('../../', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, root), 'utf8');
const EXAMPLES = ['config.example.json', 'config.example.yaml'] as const;

/** Loads `name` as the proxy would with `--config name`, without touching the environment. */
function load(name: string, text = read(name)) {
  return resolveConfig({ flags: { config: name }, env: {}, readFile: () => text });
}

describe('config.schema.json', () => {
  it('is what `npm run schema` generates from the config schema (run it after changing src/config/schema.ts)', () => {
    expect(read('config.schema.json')).toBe(configJsonSchemaText());
  });

  it('rejects unknown keys, wrong types and non-WebSocket URLs, as the proxy does', () => {
    const { validate } = compileJsonSchema(configJsonSchema());
    expect(validate({ primary_csms_url: 'wss://csms.example.com/ocpp' })).toBe(true);
    expect(validate({ primary_csms_url: 'wss://csms.example.com/ocpp', prot: 9000 })).toBe(false);
    expect(validate({ primary_csms_url: 'wss://csms.example.com/ocpp', port: 'abc' })).toBe(false);
    expect(validate({ primary_csms_url: 'https://csms.example.com/ocpp' })).toBe(false);
    expect(validate({ primary_csms_url: 'wss://csms.example.com/ocpp', log_level: 'verbose' })).toBe(false);
  });
});

describe.each(EXAMPLES)('%s', (name) => {
  it('names the JSON Schema for editors', () => {
    if (name.endsWith('.json')) expect(JSON.parse(read(name))).toMatchObject({ $schema: './config.schema.json' });
    else expect(read(name).split('\n')[0]).toBe('# yaml-language-server: $schema=./config.schema.json');
  });

  it('is valid against config.schema.json', () => {
    const example: unknown = name.endsWith('.json') ? JSON.parse(read(name)) : load(name).config;
    const { validate, errorsText } = compileJsonSchema(configJsonSchema());
    expect(validate(example), errorsText()).toBe(true);
  });

  it('loads through the real config loader without a warning', () => {
    const { config, warnings } = load(name);
    expect(warnings).toEqual([]);
    expect(config.primary_csms_url).toBe('wss://your-primary-csms.example.com/ocpp');
    expect(config.secondary_csms.map((secondary) => secondary.url)).toEqual([
      'wss://analytics.example.com/ocpp',
      'wss://other-backend.example.com/ocpp',
    ]);
    expect(config.secondary_csms[1]?.charger_map).toEqual([
      { charger_id: 'CHARGER-001', mapped_charger_id: 'ext-CHARGER-001', password: 'secret123', id_tag: 'HARDCODED-TAG' },
    ]);
  });
});

describe('the two examples', () => {
  it('say the same thing', () => {
    expect(load('config.example.yaml').config).toEqual(load('config.example.json').config);
  });
});

describe('a config file with "$schema"', () => {
  it('is loaded with the key ignored, and without an unknown-key warning for it', () => {
    const text = JSON.stringify({ $schema: './config.schema.json', primary_csms_url: 'ws://127.0.0.1:1/ocpp', log_levle: 'debug' });
    const { config, warnings } = load('config.json', text);
    expect(config.primary_csms_url).toBe('ws://127.0.0.1:1/ocpp');
    expect(Object.keys(config)).not.toContain('$schema');
    // Other unknown keys are still reported.
    expect(warnings).toEqual(['unknown option "log_levle" in config.json (ignored): did you mean "log_level"?']);
  });

  it('only at the top level: "$schema" inside a secondary is an unknown key like any other', () => {
    const text = JSON.stringify({ primary_csms_url: 'ws://127.0.0.1:1/ocpp', secondary_csms: [{ url: 'ws://127.0.0.1:2/ocpp', $schema: 'x' }] });
    expect(load('config.json', text).warnings).toEqual([
      `unknown option ${JSON.stringify('secondary_csms[0]["$schema"]')} in config.json (ignored)`,
    ]);
  });
});

import { describe, it, expect } from 'vitest';
import { configSchema, secondaryConfigSchema, chargerMapEntrySchema, LOG_LEVELS } from '../../src/config/schema.js';
import { EXPECTED_DEFAULTS } from './defaults.js';

const PRIMARY = 'wss://csms.example.com/ocpp';

function messagesFor(input: unknown): string[] {
  const result = configSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('configSchema defaults', () => {
  it('fills in every default', () => {
    expect(configSchema.parse({ primary_csms_url: PRIMARY })).toEqual({ ...EXPECTED_DEFAULTS, primary_csms_url: PRIMARY });
  });

  it('leaves host undefined by default', () => {
    expect(configSchema.parse({ primary_csms_url: PRIMARY }).host).toBeUndefined();
  });

  it('fills in secondary defaults', () => {
    expect(secondaryConfigSchema.parse({ url: 'ws://mirror.example.com' })).toEqual({
      url: 'ws://mirror.example.com',
      append_charge_point_id: true,
      reject_unauthorized: true,
      charger_map: [],
    });
  });

  it('keeps charger_map optional fields absent', () => {
    expect(chargerMapEntrySchema.parse({ charger_id: 'CP-1' })).toEqual({ charger_id: 'CP-1' });
  });

  it('describes every top-level option (docs and JSON Schema are generated from it)', () => {
    for (const [key, field] of Object.entries(configSchema.shape)) {
      expect(field.description, key).toEqual(expect.any(String));
    }
  });
});

describe('configSchema constraints', () => {
  it('requires primary_csms_url', () => {
    expect(messagesFor({})).toEqual(['primary_csms_url: expected a ws:// or wss:// URL']);
  });

  it.each([
    ['http://csms.example.com'],
    ['csms.example.com'],
    [''],
    ['wss://csms.example.com/ocpp#frag'],
    [42],
  ])('rejects primary_csms_url %j', (url) => {
    expect(messagesFor({ primary_csms_url: url })).toHaveLength(1);
  });

  it('accepts ws and wss URLs, with port, path and query', () => {
    for (const url of ['ws://10.0.0.2:8080', 'wss://csms.example.com/ocpp/v16?token=x', 'WSS://CSMS.EXAMPLE.COM']) {
      expect(messagesFor({ primary_csms_url: url })).toEqual([]);
    }
  });

  it.each([
    ['port', -1, 'expected an integer from 0 to 65535'],
    ['port', 65_536, 'expected an integer from 0 to 65535'],
    ['port', 80.5, 'expected an integer from 0 to 65535'],
    ['port', '9000', 'expected an integer from 0 to 65535'],
    ['primary_connect_timeout_ms', 99, 'expected an integer from 100 to 120000 (milliseconds)'],
    ['primary_connect_timeout_ms', 120_001, 'expected an integer from 100 to 120000 (milliseconds)'],
    ['log_level', 'verbose', 'expected one of trace, debug, info, warn, error, silent'],
    ['log_max_message_length', -1, 'expected an integer of 0 or more (characters)'],
    ['data_dir', '', 'expected a non-empty directory path'],
    ['max_message_size_bytes', 1023, 'expected an integer from 1024 to 67108864 (bytes)'],
    ['max_message_size_bytes', 64 * 1024 * 1024 + 1, 'expected an integer from 1024 to 67108864 (bytes)'],
    ['ping_interval_ms', 999, 'expected 0 (off) or an integer from 1000 to 3600000 (milliseconds)'],
    ['ping_interval_ms', 3_600_001, 'expected an integer from 0 to 3600000 (milliseconds)'],
    ['ping_max_missed', 0, 'expected an integer from 1 to 10'],
    ['ping_max_missed', 11, 'expected an integer from 1 to 10'],
    ['shutdown_timeout_ms', 99, 'expected an integer from 100 to 60000 (milliseconds)'],
    ['shutdown_timeout_ms', 60_001, 'expected an integer from 100 to 60000 (milliseconds)'],
    ['permessage_deflate', 'yes', 'expected true or false'],
    ['primary_csms_append_charge_point_id', 1, 'expected true or false'],
    ['host', '', 'expected a non-empty listen address'],
    ['secondary_csms', 'wss://x', 'expected a list of secondary CSMS entries'],
  ])('rejects %s = %j with a readable message', (key, value, message) => {
    expect(messagesFor({ primary_csms_url: PRIMARY, [key]: value })).toEqual([`${key}: ${message}`]);
  });

  it.each([
    ['port', 0],
    ['port', 65_535],
    ['ping_interval_ms', 0],
    ['ping_interval_ms', 1000],
    ['ping_interval_ms', 3_600_000],
    ['log_max_message_length', 0],
    ['max_message_size_bytes', 1024],
    ['max_message_size_bytes', 64 * 1024 * 1024],
    ['host', '::'],
  ])('accepts the boundary %s = %j', (key, value) => {
    expect(messagesFor({ primary_csms_url: PRIMARY, [key]: value })).toEqual([]);
  });

  it('accepts every log level', () => {
    for (const level of LOG_LEVELS) expect(messagesFor({ primary_csms_url: PRIMARY, log_level: level })).toEqual([]);
  });

  it('validates secondary entries and their charger_map', () => {
    const messages = messagesFor({
      primary_csms_url: PRIMARY,
      secondary_csms: [
        { url: 'http://mirror.example.com' },
        { url: 'wss://ok.example.com', charger_map: [{ mapped_charger_id: 'x' }, { charger_id: 'A', id_tag: '' }] },
      ],
    });
    expect(messages).toEqual([
      'secondary_csms.0.url: expected a ws:// or wss:// URL',
      'secondary_csms.1.charger_map.0.charger_id: expected a non-empty charge point id',
      'secondary_csms.1.charger_map.1.id_tag: expected a non-empty idTag',
    ]);
  });

  it('rejects two charger_map entries for the same charger', () => {
    const messages = messagesFor({
      primary_csms_url: PRIMARY,
      secondary_csms: [{ url: 'wss://ok.example.com', charger_map: [{ charger_id: 'A' }, { charger_id: 'B' }, { charger_id: 'A' }] }],
    });
    expect(messages).toEqual([
      'secondary_csms.0.charger_map.2.charger_id: duplicate charger_id, already mapped in charger_map[0]',
    ]);
  });

  it('reports unknown keys at every level (the loader turns them into warnings)', () => {
    const result = configSchema.safeParse({
      primary_csms_url: PRIMARY,
      primary_csms_ur: 'x',
      secondary_csms: [{ url: 'wss://a.example.com', charger_map: [{ charger_id: 'A', pasword: 'x' }] }],
    });
    expect(result.success).toBe(false);
    const unknown = result.success
      ? []
      : result.error.issues.filter((issue) => issue.code === 'unrecognized_keys').map((issue) => issue.path.join('.'));
    expect(unknown.sort()).toEqual(['', 'secondary_csms.0.charger_map.0']);
  });
});

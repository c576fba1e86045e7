/**
 * The JSON Schema of the config file (config.schema.json), generated from the one zod schema so editors can
 * autocomplete and check config.json / config.yaml. `npm run schema` writes it; a test keeps the file in sync.
 */
import { z } from 'zod';
import { EDITOR_SCHEMA_KEY } from './load.js';
import { configSchema } from './schema.js';

/**
 * What editors can check of a WebSocket URL; the proxy's own check (schema.ts) also rejects fragments and
 * unparsable hosts, with a clearer message.
 */
const WS_URL_PATTERN = '^[Ww][Ss][Ss]?://[^#]+$';

type JsonObject = Record<string, unknown>;

/** The config file's JSON Schema (draft 2020-12), describing the input as a user writes it. */
export function configJsonSchema(): JsonObject {
  const generated: JsonObject = z.toJSONSchema(configSchema, { io: 'input' });
  const properties = objectAt(generated, 'properties');
  const secondaryProperties = objectAt(objectAt(objectAt(properties, 'secondary_csms'), 'items'), 'properties');
  for (const url of [objectAt(properties, 'primary_csms_url'), objectAt(secondaryProperties, 'url')]) {
    url.pattern = WS_URL_PATTERN;
  }
  const { $schema: draft, ...rest } = generated;
  // The file may leave primary_csms_url to PRIMARY_CSMS_URL or --primary, so nothing is required in it.
  Reflect.deleteProperty(rest, 'required');
  return {
    $schema: draft,
    title: 'ocpp-splitter configuration',
    ...rest,
    properties: {
      [EDITOR_SCHEMA_KEY]: {
        type: 'string',
        description: 'The JSON Schema of this file, for editors (e.g. "./config.schema.json"); ignored by ocpp-splitter.',
      },
      ...properties,
    },
  };
}

/** config.schema.json's exact text. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

function objectAt(parent: JsonObject, key: string): JsonObject {
  const value = parent[key];
  if (!isJsonObject(value)) throw new TypeError(`config JSON Schema: expected an object at "${key}"`);
  return value;
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

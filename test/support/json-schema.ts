/**
 * JSON Schema validation for tests with the ajv 8 that ocpp-rpc brings along (draft 2020-12 build), so the
 * project does not need a dependency of its own for it.
 */
import { createRequire } from 'node:module';

export interface SchemaValidator {
  (data: unknown): boolean;
  errors?: unknown[] | null;
}

interface Ajv2020 {
  compile(schema: object): SchemaValidator;
  errorsText(errors?: unknown[] | null): string;
}

type Ajv2020Constructor = new (options: { allErrors?: boolean; strict?: boolean }) => Ajv2020;

const require = createRequire(import.meta.url);
const ajvModule = require('ocpp-rpc/node_modules/ajv/dist/2020') as { default: Ajv2020Constructor };

/** Compiles `schema` in ajv's strict mode (unknown keywords are errors, so a bad schema fails loudly). */
export function compileJsonSchema(schema: object): { validate: SchemaValidator; errorsText: () => string } {
  const ajv = new ajvModule.default({ allErrors: true, strict: true });
  const validate = ajv.compile(schema);
  return { validate, errorsText: () => ajv.errorsText(validate.errors) };
}

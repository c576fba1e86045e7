/**
 * What the Home Assistant Supervisor does with an add-on's `schema` and the user's options (supervisor
 * `apps/options.py` and `apps/validate.py`), re-implemented for tests: same element grammar, same checks,
 * same messages. Unknown keys are dropped with a warning; a key missing from the options is an error unless
 * its type ends in `?` (for a list: its element's type); a `null` value is an error.
 */

/** The Supervisor's grammar of one schema element (RE_SCHEMA_ELEMENT). */
export const HA_SCHEMA_ELEMENT =
  /^(?:|bool|email|url|port|device(?:\((?<filter>subsystem=[a-z]+)\))?|str(?:\((?<s_min>\d+)?,(?<s_max>\d+)?\))?|password(?:\((?<p_min>\d+)?,(?<p_max>\d+)?\))?|int(?:\((?<i_min>\d+)?,(?<i_max>\d+)?\))?|float(?:\((?<f_min>[\d.]+)?,(?<f_max>[\d.]+)?\))?|match\((?<match>.*)\)|list\((?<list>.+)\))\??$/;

/** Image names the Supervisor accepts in an add-on's `image:` (RE_DOCKER_IMAGE in its validate.py); `{arch}` is filled in. */
export const HA_DOCKER_IMAGE = /^([a-zA-Z\-.:\d{}]+\/)*?([-\w{}]+)\/([-\w{}]+)$/;

export class HaOptionsError extends Error {}

export type HaSchema = string | HaSchema[] | { [key: string]: HaSchema };

/** Whether `schema` is a structure the Supervisor accepts (SCHEMA_ELEMENT in validate.py). */
export function schemaProblems(schema: unknown, path = 'schema'): string[] {
  if (typeof schema === 'string') return HA_SCHEMA_ELEMENT.test(schema) ? [] : [`${path}: unknown type '${schema}'`];
  if (Array.isArray(schema)) {
    const items: unknown[] = schema;
    if (items.length !== 1) return [`${path}: a list schema has exactly one element`];
    const [element] = items;
    if (Array.isArray(element)) return [`${path}: a list may not directly contain another list`];
    return schemaProblems(element, `${path}[0]`);
  }
  if (typeof schema === 'object' && schema !== null) {
    return Object.entries(schema).flatMap(([key, value]) => schemaProblems(value, `${path}.${key}`));
  }
  return [`${path}: not a type, list or mapping`];
}

export function validateHaOptions(schema: Record<string, HaSchema>, options: unknown): { options: Record<string, unknown>; warnings: string[] } {
  const warnings: string[] = [];
  if (!isRecord(options)) throw new HaOptionsError('options must be a mapping');
  const result = validateDict(schema, options, 'root', warnings);
  return { options: result, warnings };
}

function validateElement(type: HaSchema, value: unknown, key: string, warnings: string[]): unknown {
  if (Array.isArray(type)) {
    if (!Array.isArray(value)) throw new HaOptionsError(`Invalid list for option '${key}'`);
    const element = type[0];
    if (element === undefined) throw new HaOptionsError(`Invalid schema for '${key}'`);
    const items: unknown[] = value;
    return items.map((item) => validateElement(element, item, key, warnings));
  }
  if (typeof type === 'object') {
    if (!isRecord(value)) throw new HaOptionsError(`Invalid dict for option '${key}'`);
    return validateDict(type, value, key, warnings);
  }
  return validateSingle(type, value, key);
}

function validateDict(schema: Record<string, HaSchema>, data: Record<string, unknown>, root: string, warnings: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    const type = schema[key];
    if (type === undefined) {
      warnings.push(`Unknown option '${key}'`);
      continue;
    }
    out[key] = validateElement(type, value, key, warnings);
  }
  for (const [key, type] of Object.entries(schema)) {
    if (key in out) continue;
    const decisive = Array.isArray(type) && type.length > 0 ? type[0] : type;
    if (typeof decisive === 'string' && decisive.endsWith('?')) continue;
    throw new HaOptionsError(`Missing option '${key}' in ${root}`);
  }
  return out;
}

function validateSingle(type: string, value: unknown, key: string): unknown {
  if (value === null || value === undefined) throw new HaOptionsError(`Missing required option '${key}'`);
  const match = HA_SCHEMA_ELEMENT.exec(type);
  if (match === null) throw new HaOptionsError(`Unknown type '${type}'`);
  const groups = match.groups ?? {};
  const invalid = (why: string): HaOptionsError => new HaOptionsError(`Invalid value for option '${key}': ${why}`);
  if (type.startsWith('str') || type.startsWith('password')) {
    // vol.All(str(value), …): only a value that is its own string form passes.
    if (typeof value !== 'string') throw invalid('expected a string');
    return value;
  }
  if (type.startsWith('int')) {
    const number = typeof value === 'string' && /^[+-]?\d+$/.test(value.trim()) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isInteger(number)) throw invalid('expected an integer');
    const min = groups.i_min === undefined ? undefined : Number(groups.i_min);
    const max = groups.i_max === undefined ? undefined : Number(groups.i_max);
    if ((min !== undefined && number < min) || (max !== undefined && number > max)) throw invalid(`out of range ${type}`);
    return number;
  }
  if (type.startsWith('bool')) {
    if (typeof value === 'boolean') return value;
    const text = scalarText(value).toLowerCase();
    if (['1', 'true', 'yes', 'on', 'enable'].includes(text)) return true;
    if (['0', 'false', 'no', 'off', 'disable'].includes(text)) return false;
    throw invalid('expected a boolean');
  }
  if (type.startsWith('url')) {
    // vol.Url(): a scheme and a network location.
    const text = scalarText(value);
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]+/.test(text)) throw invalid('expected a URL');
    return text;
  }
  if (type.startsWith('match')) {
    // vol.Match(pattern)(str(value)): Python's re.match, anchored at the start only. The patterns used here are
    // written in the syntax JavaScript and Python share.
    const text = scalarText(value);
    const pattern = groups.match ?? '';
    if (!new RegExp(`^(?:${pattern})`).test(text)) throw invalid(`does not match regular expression ${pattern}`);
    return text;
  }
  if (type.startsWith('list')) {
    const allowed = (groups.list ?? '').split('|');
    const text = scalarText(value);
    if (!allowed.includes(text)) throw invalid(`expected one of ${allowed.join(', ')}`);
    return text;
  }
  throw invalid(`type ${type} is not used by this add-on`);
}

/** Python's str() of a scalar; a list or mapping never matches a scalar type. */
function scalarText(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The JSON scanner that finds where a config file stops being JSON agrees with JSON.parse on what is valid.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonErrorOffset } from '../../src/config/load.js';

const parses = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

describe('jsonErrorOffset', () => {
  it('finds nothing wrong in any valid JSON', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => jsonErrorOffset(JSON.stringify(value, null, 2)) === undefined), { numRuns: 500 });
  });

  it('agrees with JSON.parse on arbitrary text, and its offset is inside the text', () => {
    const jsonish = fc.stringMatching(/^[\s{}[\]":,0-9a-z\\.eE+-]{0,24}$/);
    fc.assert(
      fc.property(fc.oneof(jsonish, fc.string()), (text) => {
        const offset = jsonErrorOffset(text);
        expect(offset === undefined).toBe(parses(text));
        if (offset !== undefined) expect(offset).toBeLessThanOrEqual(text.length);
      }),
      { numRuns: 3000 },
    );
  });

  it('points at the first wrong character', () => {
    expect(jsonErrorOffset('{"a": tru}')).toBe(9);
    expect(jsonErrorOffset('{"a": 1,}')).toBe(8);
    expect(jsonErrorOffset('[1, 2')).toBe(5);
    expect(jsonErrorOffset('{"a":1}x')).toBe(7);
  });
});

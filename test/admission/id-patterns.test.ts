import { describe, expect, it } from 'vitest';
import { IdPatterns } from '../../src/admission/id-patterns.js';

describe('IdPatterns (allowed_chargers)', () => {
  it('matches exact ids, and * as any run of characters (also none)', () => {
    const patterns = new IdPatterns(['CP-1', 'GARAGE-*', '*-north', 'a*b*c']);
    for (const id of ['CP-1', 'GARAGE-', 'GARAGE-7', 'GARAGE-a.b', 'x-north', '-north', 'abc', 'a1b2c', 'abbbc']) expect(patterns.matches(id), id).toBe(true);
    for (const id of ['CP-2', 'cp-1', 'CP-10', 'xGARAGE-7', 'x-north1', 'acb', 'ab']) expect(patterns.matches(id), id).toBe(false);
  });

  it('takes every other character literally (. + | = are id characters, not regular expression syntax)', () => {
    const patterns = new IdPatterns(['a.b', 'x+|=*']);
    expect(patterns.matches('a.b')).toBe(true);
    expect(patterns.matches('aXb')).toBe(false);
    expect(patterns.matches('x+|=1')).toBe(true);
    expect(patterns.matches('xx|=1')).toBe(false);
  });

  it('* alone lets every id in; no patterns let none in', () => {
    expect(new IdPatterns(['*']).matches('anything')).toBe(true);
    expect(new IdPatterns([]).matches('CP-1')).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { closestName, editDistance } from '../../src/util/did-you-mean.js';

const KEYS = ['port', 'host', 'log_level', 'log_format', 'charger_map', 'primary_csms_url', 'strict_config'];

describe('closestName', () => {
  it.each([
    ['prot', 'port'],
    ['log_levle', 'log_level'],
    ['chargermap', 'charger_map'],
    ['logFormat', 'log_format'],
    ['log-level', 'log_level'],
    ['primary_csms_ur', 'primary_csms_url'],
    ['STRICT_CONFIG', 'strict_config'],
  ])('suggests %s → %s', (typo, known) => {
    expect(closestName(typo, KEYS)).toBe(known);
  });

  it.each([['primary-url'], ['name'], ['secondaries'], ['']])('has nothing close to %j', (name) => {
    expect(closestName(name, KEYS)).toBeUndefined();
  });

  it('prefers the nearer candidate, and the earlier one on a tie', () => {
    expect(closestName('hots', ['hosts', 'host'])).toBe('hosts');
    expect(closestName('pxrt', ['part', 'port'])).toBe('part');
  });
});

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });
});

/** The README's configuration table must name every option the schema has; its sections appear once each. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSchema, secondaryConfigSchema, chargerMapEntrySchema } from '../../src/config/schema.js';
import { ENV_VARS } from '../../src/config/load.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README configuration reference', () => {
  it.each(Object.keys(configSchema.shape))('documents %s', (key) => {
    expect(readme).toContain(`\`${key}\``);
  });
  it.each(Object.keys(secondaryConfigSchema.shape))('documents secondary_csms[].%s', (key) => {
    expect(readme).toContain(key);
  });
  it.each(Object.keys(chargerMapEntrySchema.shape))('documents charger_map[].%s', (key) => {
    expect(readme).toContain(key);
  });
  it.each(Object.values(ENV_VARS))('documents the environment variable %s', (name) => {
    expect(readme).toContain(`\`${name}\``);
  });
});

describe('README structure', () => {
  it('has no level-2 heading twice (a block pasted twice, as once happened, shows up here)', () => {
    const headings: string[] = [];
    let inFence = false;
    for (const line of readme.split('\n')) {
      if (line.startsWith('```')) inFence = !inFence;
      if (!inFence && line.startsWith('## ')) headings.push(line);
    }
    expect(headings.length).toBeGreaterThan(10);
    expect(headings.filter((heading, index) => headings.indexOf(heading) !== index)).toEqual([]);
  });
});

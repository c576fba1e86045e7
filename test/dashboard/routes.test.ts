import { describe, expect, it } from 'vitest';
import { href, parseRoute } from '../../dashboard/src/routes.js';

describe('dashboard hash routes', () => {
  it('reads the overview, a charger and a secondary', () => {
    expect(parseRoute('')).toEqual({ page: 'overview' });
    expect(parseRoute('#/')).toEqual({ page: 'overview' });
    expect(parseRoute('#/chargers/CP-1')).toEqual({ page: 'charger', id: 'CP-1' });
    expect(parseRoute('#/secondaries/backup')).toEqual({ page: 'secondary', name: 'backup' });
  });

  it('round-trips identities with slashes, spaces and percent signs', () => {
    for (const id of ['site/CP 1', '100%', 'ü-ß']) {
      expect(parseRoute(href.charger(id))).toEqual({ page: 'charger', id });
      expect(parseRoute(href.secondary(id))).toEqual({ page: 'secondary', name: id });
    }
  });

  it('reports anything else as not found, a malformed escape included', () => {
    expect(parseRoute('#/chargers/%E0%A4%A')).toEqual({ page: 'not-found', hash: '#/chargers/%E0%A4%A' });
    expect(parseRoute('#/elsewhere')).toMatchObject({ page: 'not-found' });
  });
});

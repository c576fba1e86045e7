/**
 * `allowed_chargers`: charge point ids, each of which may hold `*` for any run of characters (`CP-*`, `*-garage`,
 * `*`). Ids may themselves contain `*` (OCPP's identifierString allows it): in a pattern it is always the
 * wildcard, which also matches a literal `*`.
 */
export class IdPatterns {
  readonly #exact = new Set<string>();
  readonly #wildcards: RegExp[] = [];

  constructor(patterns: readonly string[]) {
    for (const pattern of patterns) {
      if (!pattern.includes('*')) {
        this.#exact.add(pattern);
        continue;
      }
      // Ids are at most 48 characters: even several `.*` cannot backtrack for long.
      const source = pattern.split('*').map(escapeRegExp).join('.*');
      this.#wildcards.push(new RegExp(`^${source}$`, 's'));
    }
  }

  matches(identity: string): boolean {
    return this.#exact.has(identity) || this.#wildcards.some((pattern) => pattern.test(identity));
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

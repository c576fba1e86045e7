import { readFileSync } from 'node:fs';

/** The package version, from the nearest package.json above this file that is ours. */
export const VERSION: string = readPackageVersion();

function readPackageVersion(): string {
  // One level up from src/ and dist/; further up from other builds (the benchmark's).
  for (let url = new URL('../package.json', import.meta.url), depth = 0; depth < 5; depth += 1, url = new URL('../../package.json', url)) {
    let text: string;
    try {
      text = readFileSync(url, 'utf8');
    } catch {
      continue; // no package.json at this level: look one higher
    }
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'name' in parsed && parsed.name === 'ocpp-splitter' && 'version' in parsed && typeof parsed.version === 'string') {
      return parsed.version;
    }
  }
  return '0.0.0';
}

import { readFileSync } from 'node:fs';

/** The package version, read from package.json (one level above both src/ and dist/). */
export const VERSION: string = readPackageVersion();

function readPackageVersion(): string {
  const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed === 'object' && parsed !== null && 'version' in parsed && typeof parsed.version === 'string') {
    return parsed.version;
  }
  return '0.0.0';
}

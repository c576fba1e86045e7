/** A small Dockerfile reader for tests: instructions with continuation lines joined, comments dropped. */
import { readFileSync } from 'node:fs';

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, … */
  readonly keyword: string;
  /** Everything after the keyword, continuation lines joined with single spaces. */
  readonly args: string;
  /** Index of the build stage (0 = the first FROM). */
  readonly stage: number;
}

export function readDockerfile(url: URL): Instruction[] {
  const instructions: Instruction[] = [];
  let stage = -1;
  let pending = '';
  for (const raw of readFileSync(url, 'utf8').split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue; // a comment inside a continued instruction
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const text = `${pending}${line}`.trim();
    pending = '';
    const match = /^(\w+)\s+([\s\S]*)$/.exec(text);
    if (match === null) continue;
    const keyword = (match[1] ?? '').toUpperCase();
    if (keyword === 'FROM') stage += 1;
    instructions.push({ keyword, args: match[2] ?? '', stage });
  }
  return instructions;
}

/** The JSON-array (exec) form of CMD / ENTRYPOINT / HEALTHCHECK CMD as a list of strings. */
export function execForm(args: string): string[] {
  const start = args.indexOf('[');
  const parsed: unknown = JSON.parse(args.slice(start));
  if (!Array.isArray(parsed) || !parsed.every((item): item is string => typeof item === 'string')) {
    throw new TypeError(`not an exec-form list: ${args}`);
  }
  return parsed;
}

/**
 * `log_format: pretty` writes one line per entry, errors included (review: an error's stack spread over lines).
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';

describe('pretty logs', () => {
  it('keep an error on its entry’s line, as "Type: message", without the stack', () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    const log = createLogger('info', out, 'pretty');
    log.error({ err: new TypeError('boom'), tag: 'CP-1' }, 'something failed');
    log.warn({ error: 'plain text stays', tag: 'CP-2' }, 'other');
    const lines = chunks.join('').trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/ERROR: \[CP-1\] something failed .*"err_message":"TypeError: boom"/);
    expect(lines[0]).not.toContain('at ');
    expect(lines[1]).toContain('plain text stays');
  });
});

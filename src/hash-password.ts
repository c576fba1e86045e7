/**
 * `ocpp-splitter hash-password`: reads one charger password from standard input and prints its hash, one line,
 * for `chargers[].password_hash`. Standard input rather than an argument, which `ps` would show every local
 * user: `printf '%s' "$PASSWORD" | ocpp-splitter hash-password`, `echo pw | …` and a file all work (one final
 * line break is not part of the password).
 */
import type { Readable, Writable } from 'node:stream';
import { hashPassword } from './admission/password-hash.js';

/** No password is this long (OCPP 2.0.1's BasicAuthPassword is at most 40 characters): more is a wrong file. */
export const MAX_PASSWORD_BYTES = 1024;

export const EXIT_HASHED = 0;
/** The input is not a password: the same code as a usage error. */
export const EXIT_BAD_PASSWORD = 2;

export interface HashPasswordIo {
  readonly stdin: Readable & { readonly isTTY?: boolean };
  readonly stdout: Writable;
  readonly stderr: Writable;
}

export async function runHashPassword(io: HashPasswordIo): Promise<number> {
  const fail = (message: string): number => {
    io.stderr.write(`ocpp-splitter hash-password: ${message}\n`);
    return EXIT_BAD_PASSWORD;
  };
  if (io.stdin.isTTY === true) io.stderr.write('Password (shown as you type it; Enter to end): ');
  const input = await readInput(io.stdin, io.stdin.isTTY === true);
  if (input === undefined) return fail(`the input is longer than ${MAX_PASSWORD_BYTES} bytes: expected one password`);
  const password = withoutFinalLineBreak(input);
  if (password.length === 0) return fail('the password is empty (expected one line on standard input)');
  if (password.length > MAX_PASSWORD_BYTES) return fail(`the password is longer than ${MAX_PASSWORD_BYTES} bytes`);
  if (password.includes(0x0a) || password.includes(0x0d)) return fail('the input has more than one line: expected the password alone');
  io.stdout.write(`${await hashPassword(password)}\n`);
  return EXIT_HASHED;
}

/** Standard input to its end (at a terminal: to the first line break), or undefined past MAX_PASSWORD_BYTES. */
async function readInput(stdin: Readable, oneLine: boolean): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stdin) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    chunks.push(bytes);
    length += bytes.length;
    if (length > MAX_PASSWORD_BYTES + 2) return undefined;
    if (oneLine && bytes.includes(0x0a)) break;
  }
  const input = Buffer.concat(chunks);
  return input.length > MAX_PASSWORD_BYTES + 2 ? undefined : input;
}

/** The password without the one line break (LF or CRLF) that `echo` and editors add. */
function withoutFinalLineBreak(input: Buffer): Buffer {
  if (input.at(-1) !== 0x0a) return input;
  return input.subarray(0, input.at(-2) === 0x0d ? -2 : -1);
}

/**
 * Charger password hashes (`chargers[].password_hash`, printed by `ocpp-splitter hash-password`): scrypt
 * (RFC 7914) through `node:crypto`, written as one self-describing string
 *
 *     scrypt$<N>$<r>$<p>$<salt>$<key>        salt and key in base64url, without padding
 *
 * so that the cost can be raised later without breaking the hashes already configured: each hash carries its
 * own parameters, and is checked with them.
 *
 * Passwords are bytes, never decoded text: an OCPP 1.6 AuthorizationKey may be any bytes (Security Whitepaper),
 * and a 2.0.1 BasicAuthPassword is UTF-8, which the charger sends as its bytes.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export const PASSWORD_HASH_SCHEME = 'scrypt';

/** scrypt's parameters: cost (N, a power of two), block size (r) and parallelisation (p). */
export interface ScryptParameters {
  readonly cost: number;
  readonly blockSize: number;
  readonly parallelization: number;
}

/**
 * What `hash-password` writes: Node's own scrypt defaults, 16 MiB and some 50 ms a check. Charger passwords are
 * machine-made (16 bytes at least in both OCPP versions), so the hash guards against a leaked config file, not
 * against guessing a human's word; cheaper checks keep a reconnect storm of many chargers short.
 */
export const DEFAULT_SCRYPT: ScryptParameters = { cost: 16_384, blockSize: 8, parallelization: 1 };

/** A parsed `password_hash`, ready to check passwords against. */
export interface PasswordHash extends ScryptParameters {
  readonly salt: Buffer;
  readonly key: Buffer;
}

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const MIN_SALT_BYTES = 16;
const MAX_SALT_BYTES = 64;
const MIN_KEY_BYTES = 16;
const MAX_KEY_BYTES = 64;
const MIN_COST = 1024;
const MAX_BLOCK_SIZE = 32;
const MAX_PARALLELIZATION = 16;
/**
 * scrypt needs about 128 × N × r bytes per check: a hash that asks for more than this is refused at start, so no
 * config (or a mistyped N) can make each charger's check take gigabytes.
 */
export const MAX_SCRYPT_MEMORY_BYTES = 256 * 1024 * 1024;
/** Node refuses a check whose estimate exceeds `maxmem`: the bound above, with room for its own overhead. */
const SCRYPT_MAXMEM = MAX_SCRYPT_MEMORY_BYTES + 1024 * 1024;

const DECIMAL = /^[1-9][0-9]{0,9}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export type ParsedPasswordHash = { readonly ok: true; readonly hash: PasswordHash } | { readonly ok: false; readonly reason: string };

/** Reads a `password_hash`; the reason of a refusal never quotes the text (it is treated as a secret). */
export function parsePasswordHash(text: string): ParsedPasswordHash {
  const parts = text.trim().split('$');
  const [scheme, cost, blockSize, parallelization, salt, key] = parts;
  if (parts.length !== 6 || scheme !== PASSWORD_HASH_SCHEME) {
    return { ok: false, reason: `expected scrypt$N$r$p$salt$key, as printed by ocpp-splitter hash-password` };
  }
  const numbers = [cost, blockSize, parallelization].map((part) => (part !== undefined && DECIMAL.test(part) ? Number(part) : undefined));
  const [n, r, p] = numbers;
  if (n === undefined || r === undefined || p === undefined) return { ok: false, reason: 'N, r and p must be positive integers' };
  if (n < MIN_COST || (n & (n - 1)) !== 0) return { ok: false, reason: `N must be a power of two of at least ${MIN_COST}` };
  if (r > MAX_BLOCK_SIZE) return { ok: false, reason: `r must be at most ${MAX_BLOCK_SIZE}` };
  if (p > MAX_PARALLELIZATION) return { ok: false, reason: `p must be at most ${MAX_PARALLELIZATION}` };
  if (scryptMemory({ cost: n, blockSize: r, parallelization: p }) > MAX_SCRYPT_MEMORY_BYTES) {
    return { ok: false, reason: `N and r ask for more than ${MAX_SCRYPT_MEMORY_BYTES / (1024 * 1024)} MiB per check (128 × N × r)` };
  }
  const saltBytes = base64url(salt);
  if (saltBytes === undefined || saltBytes.length < MIN_SALT_BYTES || saltBytes.length > MAX_SALT_BYTES) {
    return { ok: false, reason: `the salt must be ${MIN_SALT_BYTES} to ${MAX_SALT_BYTES} bytes in unpadded base64url` };
  }
  const keyBytes = base64url(key);
  if (keyBytes === undefined || keyBytes.length < MIN_KEY_BYTES || keyBytes.length > MAX_KEY_BYTES) {
    return { ok: false, reason: `the key must be ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes in unpadded base64url` };
  }
  return { ok: true, hash: { cost: n, blockSize: r, parallelization: p, salt: saltBytes, key: keyBytes } };
}

export function formatPasswordHash(hash: PasswordHash): string {
  const { cost, blockSize, parallelization, salt, key } = hash;
  return [PASSWORD_HASH_SCHEME, cost, blockSize, parallelization, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** A new hash of `password` with a random salt, as `password_hash` takes it. */
export async function hashPassword(password: Buffer, parameters: ScryptParameters = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await deriveKey(password, { ...parameters, salt, key: Buffer.alloc(KEY_BYTES) });
  return formatPasswordHash({ ...parameters, salt, key });
}

/**
 * Whether `password` is the one `hash` was made of. Runs scrypt on libuv's thread pool (never the event loop),
 * and compares in constant time.
 */
export async function verifyPassword(password: Buffer, hash: PasswordHash): Promise<boolean> {
  const derived = await deriveKey(password, hash);
  return timingSafeEqual(derived, hash.key);
}

/** scrypt of `password` with `hash`'s parameters and salt, as long as its key. */
export function deriveKey(password: Buffer, hash: PasswordHash): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password,
      hash.salt,
      hash.key.length,
      { N: hash.cost, r: hash.blockSize, p: hash.parallelization, maxmem: SCRYPT_MAXMEM },
      (error, derived) => (error === null ? resolve(derived) : reject(error)),
    );
  });
}

function scryptMemory(parameters: ScryptParameters): number {
  return 128 * parameters.cost * parameters.blockSize;
}

/** Strict unpadded base64url: undefined for anything Node would only decode leniently. */
function base64url(text: string | undefined): Buffer | undefined {
  if (text === undefined || !BASE64URL.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

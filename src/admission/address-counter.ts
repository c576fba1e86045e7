import { isIP } from 'node:net';

/** Bits of an IPv6 address that name one subscriber: a home or a mobile device gets a /64 of its own. */
const IPV6_SUBSCRIBER_HEXTETS = 4;
const IPV6_HEXTETS = 8;

/**
 * The client a connection counts against for `max_connections_per_ip`: its IPv4 address, or the /64 of its
 * IPv6 address, since whoever holds one IPv6 address holds its whole /64 and could otherwise open any number
 * of connections from fresh addresses.
 */
export function addressBucket(address: string): string {
  if (isIP(address) !== 6) return address;
  const prefix = ipv6Prefix(address.split('%', 1)[0] ?? address);
  return prefix === undefined ? address : `${prefix}::/64`;
}

function ipv6Prefix(address: string): string | undefined {
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const hextets = (text: string | undefined): string[] => (text === undefined || text === '' ? [] : text.split(':'));
  const head = hextets(halves[0]);
  const tail = hextets(halves[1]);
  // An embedded IPv4 address (::ffff:192.0.2.7, 64:ff9b::192.0.2.7) fills the last two hextets.
  const last = tail.at(-1) ?? head.at(-1);
  const width = head.length + tail.length + (last?.includes('.') === true ? 1 : 0);
  const zeros = halves.length === 2 ? new Array<string>(IPV6_HEXTETS - width).fill('0') : [];
  return [...head, ...zeros, ...tail]
    .slice(0, IPV6_SUBSCRIBER_HEXTETS)
    .map((hextet) => Number.parseInt(hextet, 16).toString(16))
    .join(':');
}

/**
 * Open connections per client (see {@link addressBucket}), for `max_connections_per_ip`. A client with none
 * open is forgotten, so the map holds at most one entry per open connection.
 */
export class AddressCounter {
  /** 0: no limit (nothing is counted). */
  readonly max: number;
  readonly #open = new Map<string, number>();

  constructor(max: number) {
    this.max = max;
  }

  /** Open connections of `address`'s client. */
  count(address: string): number {
    return this.#open.get(addressBucket(address)) ?? 0;
  }

  /** Clients with a connection open. */
  get clients(): number {
    return this.#open.size;
  }

  /**
   * Counts one more connection of `address`'s client, unless it has `max` open already. Returns how to let
   * go of it (idempotent), or undefined when over the limit (nothing counted).
   */
  tryAcquire(address: string): (() => void) | undefined {
    if (this.max === 0) return () => {};
    const bucket = addressBucket(address);
    const open = this.#open.get(bucket) ?? 0;
    if (open >= this.max) return undefined;
    this.#open.set(bucket, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#open.get(bucket) ?? 1) - 1;
      if (left <= 0) this.#open.delete(bucket);
      else this.#open.set(bucket, left);
    };
  }
}

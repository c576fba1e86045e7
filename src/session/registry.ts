import type { ChargerSession } from './session.js';

/** The connected chargers, one session per charge point identity. */
export class SessionRegistry {
  readonly #byIdentity = new Map<string, ChargerSession>();

  get size(): number {
    return this.#byIdentity.size;
  }

  get(identity: string): ChargerSession | undefined {
    return this.#byIdentity.get(identity);
  }

  all(): ChargerSession[] {
    return [...this.#byIdentity.values()];
  }

  /** Registers `session`; returns the session it replaces, if that identity was connected. */
  add(session: ChargerSession): ChargerSession | undefined {
    const previous = this.#byIdentity.get(session.identity);
    this.#byIdentity.set(session.identity, session);
    return previous === session ? undefined : previous;
  }

  /** Forgets `session` — only if it is still the one registered, so a replaced session ending late cannot evict its successor. */
  remove(session: ChargerSession): void {
    if (this.#byIdentity.get(session.identity) === session) this.#byIdentity.delete(session.identity);
  }
}

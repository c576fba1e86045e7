/**
 * A process-wide byte budget for what the mirror keeps in memory beside the store
 * (the delivery windows of every outbox): one charger's backlog, however large,
 * cannot take the memory every other charger needs. Past the budget an outbox keeps
 * only what it is delivering, and reads the rest from the store in pages.
 */
export class MemoryBudget {
  readonly maxBytes: number;
  #used = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get usedBytes(): number {
    return this.#used;
  }

  /** Takes `bytes` if they fit; false (and nothing taken) otherwise. */
  tryReserve(bytes: number): boolean {
    if (this.#used + bytes > this.maxBytes) return false;
    this.#used += bytes;
    return true;
  }

  /** Takes `bytes` even past the budget: for the one entry a delivery cannot do without. */
  reserve(bytes: number): void {
    this.#used += bytes;
  }

  release(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
  }
}

/**
 * A real store with some of its methods replaced, to make it fail on purpose
 * (locked, full, overloaded) while everything else works as usual.
 */
import type { MirrorStore } from '../../src/store/store.js';

export function withFaults(store: MirrorStore, faults: Partial<MirrorStore>): MirrorStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (Object.hasOwn(faults, property)) return Reflect.get(faults, property) as unknown;
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

import { MemoryMirrorStore } from '../../src/store/memory-store.js';
import { describeStoreContract } from './contract.js';

describeStoreContract('MemoryMirrorStore', (now) => Promise.resolve({ store: new MemoryMirrorStore({ now }) }));

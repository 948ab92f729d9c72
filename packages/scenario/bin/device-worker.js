// A worker thread's entry for `gbhan run --workers`: tsx's hooks are per thread in Node 20,
// so register them here before loading the TypeScript device entry.
import { register } from 'tsx/esm/api';

register();
await import('../src/device-worker.ts');

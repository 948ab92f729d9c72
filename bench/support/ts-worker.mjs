// A worker thread's entry: tsx's hooks are per thread in Node 20, so register them here, then
// load the TypeScript module named in workerData.script.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.script);

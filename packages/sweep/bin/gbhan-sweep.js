#!/usr/bin/env node
// gbhan-sweep: `sweep` and `worker`. Sources are TypeScript run through tsx (no build step).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');

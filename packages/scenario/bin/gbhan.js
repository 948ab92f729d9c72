#!/usr/bin/env node
// The gbhan command. Sources are TypeScript run through tsx, so a fresh clone needs no build step.
import { register } from 'tsx/esm/api';

register();
// `gbhan sweep` / `gbhan worker` live in @gbhan/sweep, above this package (it imports the
// scenario runner), so the launcher hands them over instead of src/cli.ts importing upwards.
const sub = process.argv[2];
if (sub === 'sweep' || sub === 'worker') await import('@gbhan/sweep/cli');
else await import('../src/cli.ts');

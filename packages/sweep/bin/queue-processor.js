// A BullMQ worker's sandboxed processor (its own process, so a long run never starves the
// job's lock renewal): TypeScript sources through tsx, then one run per job.
import { register } from 'tsx/esm/api';

register();
const { processRunJob } = await import('../src/queue-job.ts');

export default processRunJob;

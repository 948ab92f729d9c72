// A local pool's worker thread (piscina): TypeScript sources through tsx, then one run per task.
import { register } from 'tsx/esm/api';

register();
const { runOne } = await import('../src/run-one.ts');

export default function run({ task, studyOut, attempt }) {
  return runOne(task, studyOut, attempt);
}

export { computeService } from './definition.ts';
export { runWorkerProcess } from './worker/worker-process.ts';

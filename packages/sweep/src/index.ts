/** @gbhan/sweep: studies over many runs (see README, Studies). */
export * from './errors.js';
export * from './metrics.js';
export * from './plot-specs.js';
export * from './plots.js';
export * from './pool.js';
export * from './queue.js';
export * from './results.js';
export * from './run-one.js';
export * from './study.js';
export * from './sweep.js';

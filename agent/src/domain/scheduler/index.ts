export { DEFAULTS, expandBundles, RANK } from './expand.js';
export * from './local-time.js';
export { schedule } from './plan.js';
export * from './types.js';

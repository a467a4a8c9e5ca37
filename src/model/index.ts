export type * from './types.js';
export * from './ids.js';

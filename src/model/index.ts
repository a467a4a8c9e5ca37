export type * from './types.js';
export * from './ids.js';
export { LINK_SETTINGS } from './types.js';

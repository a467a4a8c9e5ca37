// Apply: run a plan against the live system safely (lock, drift check, snapshot, verify,
// restore), and the confirmation window that reverts unless confirmed.
export { applyPlan, restoreSnapshot, snapshotAsDesired, DriftError, type ApplyResult, type ApplyOptions, type Restore } from './apply.js';
export { acquireLock, readLock, LockedError, type LockHolder } from './lock.js';
export { startConfirmWindow, confirm, watchConfirm, PENDING_FILE, REVERTED_FILE } from './confirm.js';
export { runSteps, type Progress, type RunResult, type StepFailure } from './run.js';

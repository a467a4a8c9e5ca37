// Apply: run a plan against the live system safely (lock, drift check, snapshot, verify,
// restore), and the confirmation window that reverts unless confirmed.
export { applyPlan, restoreSnapshot, snapshotAsDesired, DriftError, type ApplyResult, type ApplyOptions, type Restore } from './apply.js';
export { acquireLock, readLock, holderAlive, LockedError, type LockHolder } from './lock.js';
export { startConfirmWindow, confirm, watchConfirm, settlePending, revertedText, readPending, PENDING_FILE, REVERTED_FILE, type Pending } from './confirm.js';
export { readSavedPlan, rederive, SavedPlanError } from './saved.js';
export { runSteps, type Progress, type RunResult, type StepFailure } from './run.js';
export { planSystem, readAhead, conflictsOf, devicesOf, presentOnly, type SystemPlan, type SystemPlanOptions, type Warn } from './system.js';

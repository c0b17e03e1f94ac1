/**
 * One clock for every bench process on this machine: wall-clock milliseconds with sub-ms resolution.
 * `process.hrtime` cannot be compared across processes under Bun (it starts near 0 in each process), so
 * this is `performance.timeOrigin + performance.now()`; bench/propagation.ts checks the agreement by ping-pong.
 * @module
 */
export const now = (): number => performance.timeOrigin + performance.now();

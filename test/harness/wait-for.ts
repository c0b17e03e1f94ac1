export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** What was being waited for; shown in the timeout error. */
  message?: string;
}

/**
 * Polls `predicate` until it returns true (a thrown error counts as false) and throws a clear error on timeout.
 * Tests wait for conditions, never for fixed sleeps.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  { timeoutMs = 10_000, intervalMs = 20, message = 'condition' }: WaitForOptions = {},
): Promise<void> {
  const started = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      if (await predicate()) return;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() - started >= timeoutMs) {
      const why = lastError instanceof Error ? ` (last attempt threw: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${message}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

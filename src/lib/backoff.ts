/** Exponential backoff with full jitter; `next()` gives the next delay in ms, `reset()` after success. */
export function createBackoff({ initialMs = 100, maxMs = 2_000, random = Math.random } = {}) {
  let attempt = 0;
  return {
    next(): number {
      const cap = Math.min(maxMs, initialMs * 2 ** attempt);
      attempt++;
      return Math.round(cap / 2 + random() * (cap / 2));
    },
    reset(): void {
      attempt = 0;
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

import { createHash } from 'node:crypto';

/** Short content hash used as an xDS version: equal content gives equal versions on every replica. */
export function contentHash(...parts: readonly (string | Uint8Array)[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(p);
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

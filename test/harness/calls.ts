/**
 * Helpers over an xDS client's calls for measuring where traffic goes.
 *
 * @example
 *   const { counts, failures } = await callSpread(client, 'xds:///greeter', 2000, { parallel: 4 });
 *   percentOf(counts, (id) => id.startsWith('v2-')); // e.g. 10.2
 */
import type { CallOptions, CallResult, XdsClient } from './xds-client.ts';

/**
 * `count` calls as `parallel` concurrent sequential runs on the client's one channel (the worker serves commands
 * concurrently), merged. Several runs keep a 2,000-call measurement around a second on a small machine.
 */
export async function callSpread(
  client: XdsClient,
  target: string,
  count: number,
  { parallel = 4, ...opts }: CallOptions & { parallel?: number } = {},
): Promise<CallResult> {
  const sizes = Array.from({ length: parallel }, (_, i) => Math.floor(count / parallel) + (i < count % parallel ? 1 : 0)).filter((n) => n > 0);
  const results = await Promise.all(sizes.map((n) => client.call(target, n, opts)));
  const counts: Record<string, number> = {};
  for (const r of results) for (const [id, n] of Object.entries(r.counts)) counts[id] = (counts[id] ?? 0) + n;
  return { counts, failures: results.flatMap((r) => r.failures) };
}

export const totalOf = (counts: Record<string, number>): number => Object.values(counts).reduce((s, n) => s + n, 0);

/** Percentage of the calls in `counts` answered by instances `pick` selects (0 when there are none). */
export function percentOf(counts: Record<string, number>, pick: (id: string) => boolean): number {
  const total = totalOf(counts);
  const hits = Object.entries(counts).reduce((s, [id, n]) => s + (pick(id) ? n : 0), 0);
  return total === 0 ? 0 : (100 * hits) / total;
}

/** Instance ids that answered, sorted. */
export const answered = (counts: Record<string, number>): string[] => Object.keys(counts).sort();

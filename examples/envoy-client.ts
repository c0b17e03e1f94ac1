/**
 * A plain gRPC client that knows nothing about xDS: it sends its calls to an Envoy sidecar's outbound listener
 * (Switchyard's `switchyard/outbound`, port 15001 by default) with `:authority` set to the service name, and
 * Envoy picks the instance. Prints how many calls each greeter instance answered, once per round.
 *
 *   bun examples/envoy-client.ts [--target 127.0.0.1:15001] [--authority greeter] [--calls 30]
 *                                [--rounds 1] [--interval-ms 5000]
 *
 * `--rounds 0` repeats forever (compose.yaml does that). Environment fallbacks: ENVOY_TARGET, GREETER_AUTHORITY.
 * @module
 */
import { parseArgs } from 'node:util';
import { status } from '@grpc/grpc-js';
import { greeterClient } from '../src/demo/greeter.ts';
import { sleep } from '../src/lib/backoff.ts';
import { errorMessage } from '../src/lib/errors.ts';

export const DEFAULT_TARGET = '127.0.0.1:15001';

export interface RoundResult {
  /** Calls answered, by instance id. */
  readonly answered: ReadonlyMap<string, number>;
  /** Failure messages, by message (gRPC status name and details). */
  readonly failed: ReadonlyMap<string, number>;
}

/** Makes `calls` SayHello calls through `target` with `:authority` = `authority`. */
export async function callRound({ target, authority, calls }: { target: string; authority: string; calls: number }): Promise<RoundResult> {
  const client = greeterClient(target, { channelOptions: { 'grpc.default_authority': authority } });
  const answered = new Map<string, number>();
  const failed = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  try {
    for (let i = 1; i <= calls; i++) {
      try {
        // Wait for ready: at startup Envoy's listener may not exist yet.
        const { instance } = await client.sayHello(`call ${i}`, { waitForReady: true, deadlineMs: 10_000 });
        bump(answered, instance);
      } catch (e) {
        const code = (e as { code?: number }).code;
        const details = (e as { details?: string }).details ?? errorMessage(e);
        bump(failed, `${code === undefined ? '' : `${status[code]}: `}${details}`);
      }
    }
  } finally {
    client.close();
  }
  return { answered, failed };
}

export function formatRound(result: RoundResult, { target, authority, calls }: { target: string; authority: string; calls: number }): string {
  const lines = [`${calls} calls via ${target} (:authority ${authority}):`];
  for (const [instance, n] of [...result.answered].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  ${instance.padEnd(12)} ${String(n).padStart(5)}  ${((100 * n) / calls).toFixed(0).padStart(3)}%`);
  }
  for (const [message, n] of result.failed) lines.push(`  failed       ${String(n).padStart(5)}  ${message}`);
  return lines.join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      target: { type: 'string' },
      authority: { type: 'string' },
      calls: { type: 'string', default: '30' },
      rounds: { type: 'string', default: '1' },
      'interval-ms': { type: 'string', default: '5000' },
    },
    strict: true,
  });
  const target = values.target ?? process.env['ENVOY_TARGET'] ?? DEFAULT_TARGET;
  const authority = values.authority ?? process.env['GREETER_AUTHORITY'] ?? 'greeter';
  const calls = Number(values.calls);
  const rounds = Number(values.rounds);
  const intervalMs = Number(values['interval-ms']);
  if (!Number.isInteger(calls) || calls < 1 || !Number.isInteger(rounds) || rounds < 0 || !(intervalMs >= 0)) {
    process.stderr.write('envoy-client: --calls must be >= 1, --rounds >= 0 (0 = forever), --interval-ms >= 0\n');
    return 2;
  }
  let anyFailed = false;
  for (let round = 1; rounds === 0 || round <= rounds; round++) {
    if (round > 1) await sleep(intervalMs);
    const result = await callRound({ target, authority, calls });
    anyFailed ||= result.failed.size > 0;
    process.stdout.write(formatRound(result, { target, authority, calls }) + '\n');
  }
  return anyFailed ? 1 : 0;
}

if (import.meta.main) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`envoy-client: ${errorMessage(e)}\n`);
      process.exit(2);
    },
  );
}

/**
 * A Switchyard under test, watching a real etcd, with its log lines and xDS hook events captured.
 *
 * @example
 *   await using sy = await startSwitchyardOn(etcd);
 *   await using client = await startXdsClient({ runtime: 'node', xdsServer: sy.xdsAddress });
 *   await waitFor(() => sy.events.lastResponses(client.nodeId).size === 4);
 */
import { createSwitchyard, type Switchyard, type SwitchyardOptions } from '../../src/app.ts';
import { createLogger } from '../../src/lib/logger.ts';
import type { ServerEvents, ServerHooks } from '../../src/xds/server/hooks.ts';
import type { AdsTypeUrl } from '../../src/xds/type-urls.ts';
import type { TestEtcd } from './etcd.ts';

export type Recorded = { [K in keyof ServerEvents]: { event: K; at: number; payload: ServerEvents[K] } }[keyof ServerEvents];

/** Every hook event in order, with the test-process time it fired. */
export function recordHooks(hooks: ServerHooks) {
  const events: Recorded[] = [];
  const kinds: (keyof ServerEvents)[] = ['streamOpened', 'streamClosed', 'request', 'response', 'ack', 'nack'];
  for (const event of kinds) hooks.on(event, (payload) => events.push({ event, at: Date.now(), payload } as Recorded));
  const of = <K extends keyof ServerEvents>(event: K, nodeId?: string) =>
    events
      .filter((e): e is Extract<Recorded, { event: K }> => e.event === event)
      .filter((e) => nodeId === undefined || e.payload.node?.id === nodeId);
  /** Versions by type, from the given events (first or last seen per type). */
  const versions = (list: { payload: { typeUrl: string; versionInfo: string } }[], pick: 'first' | 'last') => {
    const out = new Map<string, string>();
    for (const { payload } of list) if (pick === 'last' || !out.has(payload.typeUrl)) out.set(payload.typeUrl, payload.versionInfo);
    return out;
  };
  return {
    events,
    of,
    /** Last version sent per type to `nodeId`. */
    lastResponses: (nodeId: string): Map<AdsTypeUrl | string, string> => versions(of('response', nodeId), 'last'),
    firstResponses: (nodeId: string): Map<AdsTypeUrl | string, string> => versions(of('response', nodeId), 'first'),
    /** Last version `nodeId` ACKed per type. */
    lastAcks: (nodeId: string): Map<AdsTypeUrl | string, string> => versions(of('ack', nodeId), 'last'),
  };
}

export interface TestSwitchyard extends Switchyard {
  /** Captured log lines (level debug and up). */
  readonly logs: string[];
  readonly events: ReturnType<typeof recordHooks>;
}

/** Creates and starts a Switchyard on `etcd` listening on `xdsListen` (default a free loopback port). */
export async function startSwitchyardOn(
  etcd: Pick<TestEtcd, 'endpoint'>,
  options: Omit<SwitchyardOptions, 'etcd' | 'source' | 'logger'> = {},
): Promise<TestSwitchyard> {
  const logs: string[] = [];
  const sy = createSwitchyard({
    etcd: { endpoints: [etcd.endpoint] },
    xdsListen: '127.0.0.1:0',
    logger: createLogger({ level: 'debug', write: (line) => logs.push(line) }),
    ...options,
  });
  const events = recordHooks(sy.hooks);
  try {
    await sy.start();
  } catch (e) {
    await sy.stop();
    throw e;
  }
  return {
    start: () => sy.start(),
    stop: () => sy.stop(),
    get xdsAddress() {
      return sy.xdsAddress;
    },
    hooks: sy.hooks,
    catalog: () => sy.catalog(),
    registryStats: () => sy.registryStats(),
    snapshots: sy.snapshots,
    [Symbol.asyncDispose]: () => sy.stop(),
    logs,
    events,
  };
}

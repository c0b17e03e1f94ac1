/**
 * `serve --demo`: three real greeter servers, registered the way services register themselves (a key per
 * instance under a kept-alive lease).
 * @module
 */
import { startGreeter, type Greeter } from '../demo/greeter.ts';
import type { Logger } from '../lib/logger.ts';
import type { Registrar } from './registrar.ts';
import type { Resources } from './resources.ts';

export const DEMO_SERVICE = 'greeter';
const INSTANCES = 3;
const LEASE_TTL_SECONDS = 10;

/** Starts the greeters and registers them; everything it starts is added to `resources`. */
export async function startDemo({
  prefix,
  registrar,
  resources,
  logger,
}: {
  prefix: string;
  registrar: Registrar;
  resources: Resources;
  logger: Logger;
}): Promise<readonly Greeter[]> {
  resources.add('demo registrar', () => registrar.close());
  const greeters: Greeter[] = [];
  for (let i = 1; i <= INSTANCES; i++) {
    const greeter = await startGreeter({ id: `${DEMO_SERVICE}-${i}`, port: 0, logger });
    resources.add(`demo ${greeter.id}`, () => greeter.stop({ graceMs: 2000 }));
    greeters.push(greeter);
  }
  const lease = await registrar.grant(LEASE_TTL_SECONDS);
  // Added after the greeters, so it is revoked first: instances leave the catalog before they stop serving.
  resources.add('demo lease', () => lease.revoke());
  for (const g of greeters) await lease.put(`${prefix}${DEMO_SERVICE}/${g.address}`, '');
  return greeters;
}

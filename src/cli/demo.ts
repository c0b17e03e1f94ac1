/**
 * `serve --demo`: three real greeter servers, registered the way services register themselves (a key per
 * instance under a kept-alive lease).
 * @module
 */
import { startGreeter, type Greeter } from '../demo/greeter.ts';
import type { Logger } from '../lib/logger.ts';
import type { DemoRegistrar } from './registrar.ts';
import type { Resources } from './resources.ts';

export const DEMO_SERVICE = 'greeter';
export const DEMO_LEASE_TTL_SECONDS = 10;
const INSTANCES = 3;

/** Starts the greeters and registers them; everything it starts is added to `resources`. */
export async function startDemo({
  registrar,
  resources,
  logger,
}: {
  /** Called once the greeters serve. */
  registrar: () => DemoRegistrar;
  resources: Resources;
  logger: Logger;
}): Promise<readonly Greeter[]> {
  const greeters: Greeter[] = [];
  for (let i = 1; i <= INSTANCES; i++) {
    const greeter = await startGreeter({ id: `${DEMO_SERVICE}-${i}`, port: 0, logger });
    resources.add(`demo ${greeter.id}`, () => greeter.stop({ graceMs: 2000 }));
    greeters.push(greeter);
  }
  const demo = registrar();
  // Added after the greeters, so it is closed first: instances leave the catalog before they stop serving.
  resources.add('demo registrations', () => demo.close());
  for (const g of greeters) await demo.register({ service: DEMO_SERVICE, host: g.host, port: g.port });
  return greeters;
}

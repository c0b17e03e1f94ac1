/**
 * `switchyard serve`: registry, control plane and (with --demo) the greeters, all stopped through `resources`.
 * @module
 */
import { createSwitchyard } from '../app.ts';
import { FORMATS } from '../registry/formats/index.ts';
import { defaults, type ServeConfig } from '../config/index.ts';
import type { Logger } from '../lib/logger.ts';
import { DEMO_SERVICE, startDemo } from './demo.ts';
import { chooseRegistry } from './registry.ts';
import type { Resources } from './resources.ts';

export interface Output {
  /** Lines for the operator (stdout). */
  print(line: string): void;
  /** Lines the operator must not miss (stderr). */
  warn(line: string): void;
}

export async function runServe(config: ServeConfig, { resources, logger, out }: { resources: Resources; logger: Logger; out: Output }) {
  const registry = await chooseRegistry(config, { resources, logger, ...out });
  if (resources.closing) return;

  const switchyard = createSwitchyard({
    ...registry.options,
    prefix: config.prefix,
    xdsListen: config.xdsListen,
    envoyListener: config.envoyListener,
    sources: config.sources.map(({ prefix, format }) => ({ prefix, format: FORMATS[format] })),
    routesPrefix: config.routesPrefix,
    logger,
    logLevel: config.logLevel,
  });
  resources.add('switchyard', () => switchyard.stop());
  await switchyard.start();
  if (resources.closing) return;

  const address = switchyard.xdsAddress;
  const bootstrapCommand = `npx switchyard bootstrap${clientAddress(address) === defaults.xdsListen ? '' : ` --server ${clientAddress(address)}`}`;
  out.print(`xDS server listening on ${address}`);
  out.print(`clients: GRPC_XDS_BOOTSTRAP_CONFIG="$(${bootstrapCommand})", then dial xds:///<service>`);

  if (!config.demo) return;
  const greeters = await startDemo({ registrar: registry.registrar, resources, logger });
  if (resources.closing) return;
  out.print(
    `demo: ${greeters.length} ${DEMO_SERVICE} instances registered (${greeters.map((g) => g.address).join(', ')}); ` +
      `try: GRPC_XDS_BOOTSTRAP_CONFIG="$(${bootstrapCommand})" node examples/greeter-client.mjs`,
  );
}

/** What a client on this machine dials for a server bound to `address`: wildcard hosts become loopback. */
function clientAddress(address: string): string {
  return address.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
}

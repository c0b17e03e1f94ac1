/**
 * `switchyard register`: keeps one instance registered for a process not written in TypeScript, until a signal
 * drains and deregisters it (see main.ts and resources.ts for the shutdown order).
 * @module
 */
import type { RegisterConfig } from '../config/index.ts';
import type { Logger } from '../lib/logger.ts';
import { createRegistrar } from '../sdk/index.ts';
import type { Resources } from './resources.ts';
import type { Output } from './serve.ts';

export async function runRegister(config: RegisterConfig, { resources, logger, out }: { resources: Resources; logger: Logger; out: Output }) {
  const { etcd, prefix, ttlSeconds, drainGraceMs } = config;
  const registrar = createRegistrar({
    etcd: { endpoints: etcd.endpoints, username: etcd.username, password: etcd.password },
    prefix,
    ttlSeconds,
    logger,
  });
  // Closing drains (the instance stays registered as draining for the grace period), deletes the key, revokes the lease.
  resources.add('registration', () => registrar.close({ graceMs: drainGraceMs }));
  const registration = await registrar.register({
    service: config.service,
    host: config.host,
    port: config.port,
    weight: config.weight,
    region: config.region,
    zone: config.zone,
    subZone: config.subZone,
    priority: config.priority,
    version: config.version,
    tags: config.tags,
  });
  out.print(
    `registered ${registration.key} under lease ${registrar.leaseId ?? '(being replaced)'} (TTL ${ttlSeconds} s); ` +
      `on SIGTERM or Ctrl-C it is marked draining for ${drainGraceMs} ms, then deregistered`,
  );
}

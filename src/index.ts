/**
 * Switchyard: etcd service registrations served as an xDS (ADS) control plane.
 * @module
 */
export { createSwitchyard } from './app.ts';
export type { Switchyard, SwitchyardOptions } from './app.ts';
export type { Catalog, Instance, Service, Rejection } from './catalog/model.ts';
export type { RegistrySource, RegistrySink, RawEntry, RawChange, SourceStatus } from './registry/source.ts';
export type { Logger, LogLevel } from './lib/logger.ts';

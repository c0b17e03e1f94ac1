/**
 * Configuration: the only module that reads argv and the environment.
 * @module
 */
export { parseConfig, type Env } from './parse.ts';
export { defaults, envVars } from './config.ts';
export type { BootstrapConfig, Config, EtcdConfig, HelpConfig, HelpTopic, ServeConfig, VersionConfig } from './config.ts';

/**
 * Configuration: the only module that reads argv and the environment.
 * @module
 */
export { parseConfig, type Env } from './parse.ts';
export { defaults, envVars, registerDefaults, SOURCE_FORMATS } from './config.ts';
export type { BootstrapConfig, Config, EtcdConfig, HelpConfig, HelpTopic, RegisterConfig, ServeConfig, SourceSpec, VersionConfig } from './config.ts';

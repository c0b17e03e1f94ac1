/**
 * The typed result of reading argv and env: one variant per command, every default filled in.
 * @module
 */
import type { LogLevel } from '../lib/logger.ts';

export interface EtcdConfig {
  /** `http(s)://host:port`, as given (trailing slash removed). */
  readonly endpoints: readonly string[];
  readonly username: string | undefined;
  readonly password: string | undefined;
}

export interface ServeConfig {
  readonly command: 'serve';
  /** `undefined`: no etcd given, so the CLI starts a private etcd or falls back to the memory registry. */
  readonly etcd: EtcdConfig | undefined;
  /** Key prefix of registrations; always starts and ends with `/`. */
  readonly prefix: string;
  /** `host:port` of the xDS server; port 0 picks a free port. */
  readonly xdsListen: string;
  /** More prefixes to watch, each in a registration format of another framework. */
  readonly sources: readonly SourceSpec[];
  /** Where route policies live. */
  readonly routesPrefix: string;
  /** Where Envoy sidecars' outbound listener binds (sent to them over LDS). */
  readonly envoyListener: { readonly address: string; readonly port: number };
  readonly logLevel: LogLevel;
  /** Start three greeter instances and register them. */
  readonly demo: boolean;
  /** Data directory of the private etcd; `undefined`: a temporary directory removed on exit. */
  readonly dataDir: string | undefined;
}

/** Registration formats `--source` accepts (the registry's FORMATS; a test keeps the two lists equal). */
export const SOURCE_FORMATS = ['switchyard', 'etcd-naming', 'kratos', 'go-zero', 'kitex', 'rpcx'] as const;

export interface SourceSpec {
  /** Key prefix, ending in `/` (or empty: the whole keyspace). */
  readonly prefix: string;
  readonly format: (typeof SOURCE_FORMATS)[number];
}

export interface BootstrapConfig {
  readonly command: 'bootstrap';
  readonly nodeId: string;
  /** `host:port` the client dials for xDS. */
  readonly server: string;
  readonly cluster: string | undefined;
  readonly zone: string | undefined;
  readonly region: string | undefined;
}

/** `switchyard register`: one instance kept registered until SIGTERM/SIGINT, then drained and deregistered. */
export interface RegisterConfig {
  readonly command: 'register';
  readonly etcd: EtcdConfig;
  /** Key prefix; always starts and ends with `/`. */
  readonly prefix: string;
  /** As given; the registrar checks it is a usable service name. */
  readonly service: string;
  /** IP literal; IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
  readonly ttlSeconds: number;
  readonly weight: number | undefined;
  readonly region: string | undefined;
  readonly zone: string | undefined;
  readonly subZone: string | undefined;
  readonly priority: number | undefined;
  readonly version: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
  /** How long the instance stays registered as draining after the signal, before its key is deleted. */
  readonly drainGraceMs: number;
  readonly logLevel: LogLevel;
}

export type HelpTopic = 'serve' | 'bootstrap' | 'register';

export interface HelpConfig {
  readonly command: 'help';
  readonly topic: HelpTopic | undefined;
}

export interface VersionConfig {
  readonly command: 'version';
}

export type Config = ServeConfig | BootstrapConfig | RegisterConfig | HelpConfig | VersionConfig;

export const defaults = {
  prefix: '/services/',
  xdsListen: '127.0.0.1:18000',
  envoyListener: '0.0.0.0:15001',
  routesPrefix: '/switchyard/routes/',
  logLevel: 'info',
  nodeIdPrefix: 'switchyard-client-',
} as const satisfies Record<string, string>;

/** Defaults of `switchyard register`. */
export const registerDefaults = {
  ttlSeconds: 10,
  drainGraceMs: 5_000,
} as const;

/** Limits `switchyard register` checks; the same as the registration value format's (registry/formats/switchyard-value.ts). */
export const registerLimits = {
  maxWeight: 1_000_000,
  maxPriority: 128,
  /** etcd's MaxLeaseTTL. */
  maxTtlSeconds: 9_000_000_000,
} as const;

/** Environment variables read by `parseConfig`, by setting. */
export const envVars = {
  etcd: 'SWITCHYARD_ETCD',
  etcdUsername: 'SWITCHYARD_ETCD_USERNAME',
  etcdPassword: 'SWITCHYARD_ETCD_PASSWORD',
  prefix: 'SWITCHYARD_PREFIX',
  xdsListen: 'SWITCHYARD_XDS_LISTEN',
  envoyListener: 'SWITCHYARD_ENVOY_LISTENER',
  sources: 'SWITCHYARD_SOURCES',
  routesPrefix: 'SWITCHYARD_ROUTES_PREFIX',
  logLevel: 'SWITCHYARD_LOG_LEVEL',
  demo: 'SWITCHYARD_DEMO',
  dataDir: 'SWITCHYARD_DATA_DIR',
  service: 'SWITCHYARD_SERVICE',
  address: 'SWITCHYARD_ADDRESS',
  ttl: 'SWITCHYARD_TTL',
  weight: 'SWITCHYARD_WEIGHT',
  region: 'SWITCHYARD_REGION',
  zone: 'SWITCHYARD_ZONE',
  subZone: 'SWITCHYARD_SUB_ZONE',
  priority: 'SWITCHYARD_PRIORITY',
  /** Not SWITCHYARD_VERSION, which reads as Switchyard's own version. */
  instanceVersion: 'SWITCHYARD_INSTANCE_VERSION',
  tags: 'SWITCHYARD_TAGS',
  drainGraceMs: 'SWITCHYARD_DRAIN_GRACE_MS',
} as const;

/**
 * `parseConfig(argv, env)`: the one reader of command-line arguments and environment variables.
 * @module
 */
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { err, ok, type Result } from '../lib/result.ts';
import { parseArgs, type FlagSpecs } from './args.ts';
import {
  defaults,
  envVars,
  registerDefaults,
  registerLimits,
  type BootstrapConfig,
  type Config,
  type EtcdConfig,
  type HelpTopic,
  type RegisterConfig,
  type ServeConfig,
  type SourceSpec,
} from './config.ts';
import {
  formatHostPort,
  parseBoolean,
  parseEtcdEndpoints,
  parseHostPort,
  parseIntIn,
  parseLogLevel,
  parsePrefix,
  parseSource,
  parseTag,
  parseTags,
  parseText,
} from './values.ts';

export type Env = Readonly<Record<string, string | undefined>>;

const serveFlags: FlagSpecs = {
  etcd: 'string',
  'etcd-username': 'string',
  'etcd-password': 'string',
  prefix: 'string',
  'xds-listen': 'string',
  'envoy-listener': 'string',
  source: 'repeated',
  'routes-prefix': 'string',
  'log-level': 'string',
  demo: 'boolean',
  'data-dir': 'string',
};

const bootstrapFlags: FlagSpecs = {
  'node-id': 'string',
  server: 'string',
  cluster: 'string',
  zone: 'string',
  region: 'string',
};

const registerFlags: FlagSpecs = {
  etcd: 'string',
  'etcd-username': 'string',
  'etcd-password': 'string',
  prefix: 'string',
  service: 'string',
  address: 'string',
  ttl: 'string',
  weight: 'string',
  region: 'string',
  zone: 'string',
  'sub-zone': 'string',
  priority: 'string',
  version: 'string',
  tag: 'repeated',
  'drain-grace-ms': 'string',
  'log-level': 'string',
};

const COMMANDS = ['serve', 'bootstrap', 'register', 'help', 'version'] as const;
const HELP_TOPICS: readonly HelpTopic[] = ['serve', 'bootstrap', 'register'];

/**
 * Reads a command and its flags; flags override env vars, env vars override defaults.
 * @example parseConfig(process.argv.slice(2), process.env)
 */
export function parseConfig(
  argv: readonly string[],
  env: Env,
  system: { readonly hostname: string } = { hostname: hostname() },
): Result<Config> {
  const [first, ...rest] = argv;
  switch (first) {
    case undefined:
    case '--help':
    case '-h':
      return ok({ command: 'help', topic: undefined });
    case 'help':
      return parseHelp(rest);
    case 'version':
    case '--version':
      return rest.length === 0 ? ok({ command: 'version' }) : err(`"version" takes no arguments, got "${rest.join(' ')}"`);
    case 'serve':
      return parseServe(rest, env);
    case 'bootstrap':
      return parseBootstrap(rest, env, system.hostname);
    case 'register':
      return parseRegister(rest, env);
    default:
      return err(`unknown command "${first}"; expected one of ${COMMANDS.join(', ')}`);
  }
}

function parseHelp(rest: readonly string[]): Result<Config> {
  const [topic, ...extra] = rest;
  if (topic === undefined) return ok({ command: 'help', topic: undefined });
  if (extra.length === 0 && (HELP_TOPICS as readonly string[]).includes(topic)) return ok({ command: 'help', topic: topic as HelpTopic });
  return err(`help: got "${rest.join(' ')}", expected one of ${HELP_TOPICS.join(', ')} or nothing`);
}

function parseServe(rest: readonly string[], env: Env): Result<Config> {
  const args = parseArgs(rest, serveFlags, 'serve');
  if (!args.ok) return args;
  if (args.value.help) return ok(help('serve'));
  const s = new Settings(args.value.flags, env);
  const etcd = readEtcd(s);
  const config: ServeConfig = {
    command: 'serve',
    etcd,
    prefix: s.get('prefix', envVars.prefix, parsePrefix) ?? defaults.prefix,
    xdsListen: s.get('xds-listen', envVars.xdsListen, listenAddress) ?? defaults.xdsListen,
    envoyListener: s.get('envoy-listener', envVars.envoyListener, envoyListenerAddress) ?? DEFAULT_ENVOY_LISTENER,
    sources: sourcesFrom(s, args.value.lists.get('source'), env[envVars.sources]),
    routesPrefix: s.get('routes-prefix', envVars.routesPrefix, parsePrefix) ?? defaults.routesPrefix,
    logLevel: s.get('log-level', envVars.logLevel, parseLogLevel) ?? defaults.logLevel,
    demo: s.get('demo', envVars.demo, parseBoolean) ?? false,
    dataDir: s.get('data-dir', envVars.dataDir, parseText),
  };
  return s.errors.length > 0 ? err(...s.errors) : ok(config);
}

function parseBootstrap(rest: readonly string[], env: Env, host: string): Result<Config> {
  const args = parseArgs(rest, bootstrapFlags, 'bootstrap');
  if (!args.ok) return args;
  if (args.value.help) return ok(help('bootstrap'));
  const s = new Settings(args.value.flags, env);
  const config: BootstrapConfig = {
    command: 'bootstrap',
    nodeId: s.get('node-id', undefined, parseText) ?? `${defaults.nodeIdPrefix}${host}`,
    server:
      (s.given('server', undefined) ? s.get('server', undefined, dialAddress) : s.get(undefined, envVars.xdsListen, serverFromListen)) ??
      defaults.xdsListen,
    cluster: s.get('cluster', undefined, parseText),
    zone: s.get('zone', undefined, parseText),
    region: s.get('region', undefined, parseText),
  };
  return s.errors.length > 0 ? err(...s.errors) : ok(config);
}

function parseRegister(rest: readonly string[], env: Env): Result<Config> {
  const args = parseArgs(rest, registerFlags, 'register');
  if (!args.ok) return args;
  if (args.value.help) return ok(help('register'));
  const s = new Settings(args.value.flags, env);
  const etcd = readEtcd(s);
  const required = (flag: string, envVar: string, what: string) => {
    if (!s.given(flag, envVar)) s.errors.push(`register needs --${flag} (or ${envVar}): ${what}`);
  };
  required('etcd', envVars.etcd, 'the etcd to register in, such as http://127.0.0.1:2379');
  required('service', envVars.service, 'the service name clients dial as xds:///<service>');
  required('address', envVars.address, 'the IP:port clients reach this instance at, such as 10.0.0.7:50051');
  const address = s.get('address', envVars.address, instanceAddress);
  const tagFlags = args.value.lists.get('tag');
  const tags = tagFlags !== undefined ? tagsFromFlags(s, tagFlags) : s.get(undefined, envVars.tags, tagList);
  const config: RegisterConfig = {
    command: 'register',
    etcd: etcd ?? { endpoints: [], username: undefined, password: undefined },
    prefix: s.get('prefix', envVars.prefix, parsePrefix) ?? defaults.prefix,
    service: s.get('service', envVars.service, parseText) ?? '',
    host: address?.host ?? '',
    port: address?.port ?? 0,
    ttlSeconds: s.get('ttl', envVars.ttl, parseIntIn(1, registerLimits.maxTtlSeconds, 'seconds')) ?? registerDefaults.ttlSeconds,
    weight: s.get('weight', envVars.weight, parseIntIn(1, registerLimits.maxWeight)),
    region: s.get('region', envVars.region, parseText),
    zone: s.get('zone', envVars.zone, parseText),
    subZone: s.get('sub-zone', envVars.subZone, parseText),
    priority: s.get('priority', envVars.priority, parseIntIn(0, registerLimits.maxPriority)),
    version: s.get('version', envVars.instanceVersion, parseText),
    tags: tags ?? {},
    drainGraceMs:
      s.get('drain-grace-ms', envVars.drainGraceMs, parseIntIn(0, Number.MAX_SAFE_INTEGER, 'milliseconds')) ?? registerDefaults.drainGraceMs,
    logLevel: s.get('log-level', envVars.logLevel, parseLogLevel) ?? defaults.logLevel,
  };
  return s.errors.length > 0 ? err(...s.errors) : ok(config);
}

/** `--etcd` with optional credentials (shared by serve and register); undefined when no etcd is given. */
function readEtcd(s: Settings): EtcdConfig | undefined {
  const endpoints = s.get('etcd', envVars.etcd, parseEtcdEndpoints);
  const username = s.get('etcd-username', envVars.etcdUsername, parseText);
  const password = s.get('etcd-password', envVars.etcdPassword, parseText, { secret: true });
  const hasUser = s.given('etcd-username', envVars.etcdUsername);
  const hasPassword = s.given('etcd-password', envVars.etcdPassword);
  if (!s.given('etcd', envVars.etcd) && (hasUser || hasPassword)) {
    s.errors.push(`--etcd-username/--etcd-password (or ${envVars.etcdUsername}/${envVars.etcdPassword}) need --etcd (or ${envVars.etcd})`);
  } else if (hasUser !== hasPassword) {
    s.errors.push(`etcd authentication needs both --etcd-username and --etcd-password (or ${envVars.etcdUsername}/${envVars.etcdPassword})`);
  }
  return endpoints === undefined ? undefined : { endpoints, username, password };
}

const help = (topic: HelpTopic): Config => ({ command: 'help', topic });

/** The address an instance registers: clients and Envoy dial it as given, so the host must be an IP literal. */
function instanceAddress(raw: string): Result<{ host: string; port: number }> {
  const r = parseHostPort(raw, { allowPortZero: false });
  if (!r.ok) return r;
  if (isIP(r.value.host) === 0) {
    return err(`"${r.value.host}" is not an IP address; register the IP:port clients dial, such as 10.0.0.7:50051 or [::1]:50051 (host names are not resolved)`);
  }
  return ok(r.value);
}

/** Repeated `--source prefix=format` flags, else `SWITCHYARD_SOURCES` (comma-separated); each bad one is reported. */
function sourcesFrom(s: Settings, flags: readonly string[] | undefined, fromEnv: string | undefined): readonly SourceSpec[] {
  const [raws, origin] = flags ? [flags, '--source'] : [fromEnv ? fromEnv.split(',') : [], envVars.sources];
  const specs: SourceSpec[] = [];
  for (const raw of raws) {
    const spec = parseSource(raw.trim());
    if (spec.ok) specs.push(spec.value);
    else s.errors.push(`${origin}: got ${JSON.stringify(raw)}, ${spec.errors.join('; ')}`);
  }
  return specs;
}

/** Repeated `--tag name=value`; each bad one is reported. */
function tagsFromFlags(s: Settings, raws: readonly string[]): Readonly<Record<string, string>> {
  const tags: Record<string, string> = {};
  for (const raw of raws) {
    const tag = parseTag(raw);
    if (!tag.ok) {
      s.errors.push(`--tag: got ${JSON.stringify(raw)}, ${tag.errors.join('; ')}`);
      continue;
    }
    const [name, value] = tag.value;
    if (Object.hasOwn(tags, name)) s.errors.push(`--tag: tag "${name}" is given twice`);
    tags[name] = value;
  }
  return tags;
}

/** SWITCHYARD_TAGS: `name=value` pairs separated by commas. */
const tagList = (raw: string) =>
  parseTags(
    raw
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== ''),
  );

function listenAddress(raw: string): Result<string> {
  const r = parseHostPort(raw, { allowPortZero: true });
  return r.ok ? ok(formatHostPort(r.value)) : r;
}

const DEFAULT_ENVOY_LISTENER = { address: '0.0.0.0', port: 15001 } as const;

/** Envoy binds listener addresses as given, so the host must be an IP literal. */
function envoyListenerAddress(raw: string): Result<{ address: string; port: number }> {
  const r = parseHostPort(raw, { allowPortZero: false });
  if (!r.ok) return r;
  if (isIP(r.value.host) === 0) return err(`"${r.value.host}" is not an IP address; Envoy binds listeners to IP addresses such as 0.0.0.0:15001`);
  return ok({ address: r.value.host, port: r.value.port });
}

function dialAddress(raw: string): Result<string> {
  const r = parseHostPort(raw, { allowPortZero: false });
  return r.ok ? ok(formatHostPort(r.value)) : r;
}

/** The address a local client dials to reach a server listening on `raw`: wildcards become loopback. */
function serverFromListen(raw: string): Result<string> {
  const r = parseHostPort(raw, { allowPortZero: false });
  if (!r.ok) return err(`${r.errors.join('; ')}; or give --server`);
  const host = r.value.host === '0.0.0.0' ? '127.0.0.1' : r.value.host === '::' ? '::1' : r.value.host;
  return ok(formatHostPort({ host, port: r.value.port }));
}

/** Looks up one setting (flag first, then env var) and collects what is wrong with it. */
class Settings {
  readonly errors: string[] = [];
  constructor(
    private readonly flags: ReadonlyMap<string, string>,
    private readonly env: Env,
  ) {}

  given(flag: string | undefined, envVar: string | undefined): boolean {
    return (flag !== undefined && this.flags.has(flag)) || (envVar !== undefined && !!this.env[envVar]);
  }

  get<T>(
    flag: string | undefined,
    envVar: string | undefined,
    parse: (raw: string) => Result<T>,
    { secret = false }: { secret?: boolean } = {},
  ): T | undefined {
    const fromFlag = flag === undefined ? undefined : this.flags.get(flag);
    // An empty env var counts as unset (`SWITCHYARD_ETCD= switchyard serve`); an empty flag value is a mistake.
    const fromEnv = envVar === undefined || fromFlag !== undefined ? undefined : this.env[envVar] || undefined;
    const raw = fromFlag ?? fromEnv;
    if (raw === undefined) return undefined;
    const r = parse(raw);
    if (r.ok) return r.value;
    const source = fromFlag !== undefined ? `--${flag}` : envVar;
    const given = secret ? '(hidden)' : JSON.stringify(raw);
    this.errors.push(`${source}: got ${given}, ${r.errors.join('; ')}`);
    return undefined;
  }
}

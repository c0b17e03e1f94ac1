import { describe, expect, test } from 'bun:test';
import { ok } from '../lib/result.ts';
import type { BootstrapConfig, RegisterConfig, ServeConfig } from './config.ts';
import { parseConfig, type Env } from './parse.ts';

const system = { hostname: 'box' };
const parse = (argv: string[], env: Env = {}) => parseConfig(argv, env, system);

const serveDefaults: ServeConfig = {
  command: 'serve',
  etcd: undefined,
  prefix: '/services/',
  xdsListen: '127.0.0.1:18000',
  envoyListener: { address: '0.0.0.0', port: 15001 },
  sources: [],
  routesPrefix: '/switchyard/routes/',
  logLevel: 'info',
  demo: false,
  dataDir: undefined,
};

const bootstrapDefaults: BootstrapConfig = {
  command: 'bootstrap',
  nodeId: 'switchyard-client-box',
  server: '127.0.0.1:18000',
  cluster: undefined,
  zone: undefined,
  region: undefined,
};

const serve = (over: Partial<ServeConfig> = {}) => ok({ ...serveDefaults, ...over });
const bootstrap = (over: Partial<BootstrapConfig> = {}) => ok({ ...bootstrapDefaults, ...over });

/** The single error message of a failed parse. */
function errorOf(argv: string[], env: Env = {}): string {
  const r = parse(argv, env);
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.value)}`);
  return r.errors.join('\n');
}

describe('commands', () => {
  test('no arguments, --help and -h ask for usage', () => {
    for (const argv of [[], ['--help'], ['-h'], ['help']]) {
      expect(parse(argv)).toEqual(ok({ command: 'help', topic: undefined }));
    }
  });

  test('help with a topic, and --help after a command', () => {
    expect(parse(['help', 'serve'])).toEqual(ok({ command: 'help', topic: 'serve' }));
    expect(parse(['serve', '--help'])).toEqual(ok({ command: 'help', topic: 'serve' }));
    expect(parse(['bootstrap', '-h'])).toEqual(ok({ command: 'help', topic: 'bootstrap' }));
    // Asking for help wins over a mistake in the same line.
    expect(parse(['serve', '--bogus', '--help'])).toEqual(ok({ command: 'help', topic: 'serve' }));
  });

  test('help with an unknown topic', () => {
    expect(errorOf(['help', 'nope'])).toBe('help: got "nope", expected one of serve, bootstrap, register or nothing');
    expect(parse(['help', 'register'])).toEqual(ok({ command: 'help', topic: 'register' }));
    expect(parse(['register', '--help'])).toEqual(ok({ command: 'help', topic: 'register' }));
  });

  test('version and --version', () => {
    expect(parse(['version'])).toEqual(ok({ command: 'version' }));
    expect(parse(['--version'])).toEqual(ok({ command: 'version' }));
    expect(errorOf(['version', 'x'])).toBe('"version" takes no arguments, got "x"');
  });

  test('unknown command', () => {
    expect(errorOf(['run'])).toBe('unknown command "run"; expected one of serve, bootstrap, register, help, version');
    expect(errorOf(['--demo'])).toBe('unknown command "--demo"; expected one of serve, bootstrap, register, help, version');
  });
});

describe('serve', () => {
  test('defaults', () => {
    expect(parse(['serve'])).toEqual(serve());
  });

  test('every flag, in both --flag value and --flag=value form', () => {
    const argv = [
      'serve',
      '--etcd',
      'http://10.0.0.1:2379,https://etcd.example:2379',
      '--etcd-username=root',
      '--etcd-password',
      's3cret',
      '--prefix=/reg/',
      '--xds-listen',
      '0.0.0.0:0',
      '--log-level=debug',
      '--demo',
      '--data-dir',
      '/tmp/sy',
    ];
    expect(parse(argv)).toEqual(
      serve({
        etcd: { endpoints: ['http://10.0.0.1:2379', 'https://etcd.example:2379'], username: 'root', password: 's3cret' },
        prefix: '/reg/',
        xdsListen: '0.0.0.0:0',
        logLevel: 'debug',
        demo: true,
        dataDir: '/tmp/sy',
      }),
    );
  });

  test('every env var', () => {
    const env: Env = {
      SWITCHYARD_ETCD: 'http://127.0.0.1:2379',
      SWITCHYARD_ETCD_USERNAME: 'u',
      SWITCHYARD_ETCD_PASSWORD: 'p',
      SWITCHYARD_PREFIX: '/svc',
      SWITCHYARD_XDS_LISTEN: '[::1]:18001',
      SWITCHYARD_LOG_LEVEL: 'warn',
      SWITCHYARD_DEMO: '1',
      SWITCHYARD_DATA_DIR: './data',
    };
    expect(parse(['serve'], env)).toEqual(
      serve({
        etcd: { endpoints: ['http://127.0.0.1:2379'], username: 'u', password: 'p' },
        prefix: '/svc/',
        xdsListen: '[::1]:18001',
        logLevel: 'warn',
        demo: true,
        dataDir: './data',
      }),
    );
  });

  test('flags override env vars', () => {
    const env: Env = { SWITCHYARD_ETCD: 'http://a:1', SWITCHYARD_XDS_LISTEN: '127.0.0.1:1', SWITCHYARD_DEMO: 'true' };
    expect(parse(['serve', '--etcd', 'http://b:2', '--xds-listen=127.0.0.1:2', '--demo=false'], env)).toEqual(
      serve({ etcd: { endpoints: ['http://b:2'], username: undefined, password: undefined }, xdsListen: '127.0.0.1:2' }),
    );
  });

  test('an invalid env var is not reported when a flag overrides it', () => {
    expect(parse(['serve', '--log-level', 'error'], { SWITCHYARD_LOG_LEVEL: 'loud' })).toEqual(serve({ logLevel: 'error' }));
  });

  test('empty env vars count as unset', () => {
    expect(parse(['serve'], { SWITCHYARD_ETCD: '', SWITCHYARD_PREFIX: '', SWITCHYARD_DEMO: '' })).toEqual(serve());
  });

  test('the last occurrence of a flag wins', () => {
    expect(parse(['serve', '--prefix', '/a/', '--prefix', '/b/'])).toEqual(serve({ prefix: '/b/' }));
  });

  test('unknown flag names the flag and lists the known ones', () => {
    expect(errorOf(['serve', '--etcd-url', 'http://a:1'])).toBe(
      'unknown flag --etcd-url for "serve"; expected one of --etcd, --etcd-username, --etcd-password, --prefix, --xds-listen, --envoy-listener, --source, --routes-prefix, --log-level, --demo, --data-dir',
    );
  });

  test('a bootstrap flag is unknown to serve', () => {
    expect(errorOf(['serve', '--node-id=x'])).toStartWith('unknown flag --node-id for "serve"');
  });

  test('positional arguments are rejected', () => {
    expect(errorOf(['serve', 'http://a:1'])).toBe(
      'unexpected argument "http://a:1" for "serve": flags are written --name value or --name=value',
    );
    expect(errorOf(['serve', '-d'])).toStartWith('unexpected argument "-d"');
  });

  test('missing value, at the end or before another flag', () => {
    expect(errorOf(['serve', '--etcd'])).toBe('--etcd: missing value; write --etcd <value> or --etcd=<value>');
    expect(errorOf(['serve', '--prefix', '--demo'])).toBe('--prefix: missing value; write --prefix <value> or --prefix=<value>');
  });

  test('every error is reported, not only the first', () => {
    const r = parse(['serve', '--xds-listen=nope', '--log-level=loud']);
    expect(r).toEqual({
      ok: false,
      errors: [
        '--xds-listen: got "nope", expected host:port such as 127.0.0.1:18000 or [::1]:18000, port 0-65535',
        '--log-level: got "loud", expected one of debug, info, warn, error, silent',
      ],
    });
  });

  test('bad etcd URLs name the flag or env var, the value and what is expected', () => {
    const expected = 'expected comma-separated http:// or https:// URLs with a port, such as http://127.0.0.1:2379';
    expect(errorOf(['serve', '--etcd', '127.0.0.1:2379'])).toBe(
      `--etcd: got "127.0.0.1:2379", "127.0.0.1:2379" has no http:// or https://, ${expected}`,
    );
    expect(errorOf(['serve'], { SWITCHYARD_ETCD: 'grpc://a:1' })).toBe(
      `SWITCHYARD_ETCD: got "grpc://a:1", "grpc://a:1" is not an http(s) URL with only host:port, ${expected}`,
    );
    expect(errorOf(['serve', '--etcd=http://a:1,http://b'])).toBe(
      `--etcd: got "http://a:1,http://b", "http://b" has no valid host:port, ${expected}`,
    );
    expect(errorOf(['serve', '--etcd=,'])).toBe(`--etcd: got ",", no URL given, ${expected}`);
  });

  test('bad host:port for --xds-listen and SWITCHYARD_XDS_LISTEN', () => {
    expect(errorOf(['serve', '--xds-listen', '127.0.0.1:70000'])).toStartWith(
      '--xds-listen: got "127.0.0.1:70000", port out of range, expected host:port',
    );
    expect(errorOf(['serve'], { SWITCHYARD_XDS_LISTEN: '18000' })).toStartWith('SWITCHYARD_XDS_LISTEN: got "18000", expected host:port');
  });

  test('prefix must start with a slash; a missing trailing slash is added', () => {
    expect(parse(['serve', '--prefix', '/services'])).toEqual(serve({ prefix: '/services/' }));
    expect(parse(['serve', '--prefix', '/'])).toEqual(serve({ prefix: '/' }));
    expect(errorOf(['serve', '--prefix', 'services/'])).toBe(
      '--prefix: got "services/", expected a key prefix that starts with "/", such as /services/',
    );
    expect(errorOf(['serve', '--prefix=/my services/'])).toStartWith('--prefix: got "/my services/", whitespace is not allowed');
  });

  test('log levels', () => {
    for (const logLevel of ['debug', 'info', 'warn', 'error', 'silent'] as const) {
      expect(parse(['serve', `--log-level=${logLevel}`])).toEqual(serve({ logLevel }));
    }
    expect(errorOf(['serve'], { SWITCHYARD_LOG_LEVEL: 'INFO' })).toBe(
      'SWITCHYARD_LOG_LEVEL: got "INFO", expected one of debug, info, warn, error, silent',
    );
  });

  test('demo as a bare flag, with a value and from the env', () => {
    expect(parse(['serve', '--demo'])).toEqual(serve({ demo: true }));
    expect(parse(['serve', '--demo=no'])).toEqual(serve({ demo: false }));
    expect(parse(['serve'], { SWITCHYARD_DEMO: 'yes' })).toEqual(serve({ demo: true }));
    expect(parse(['serve'], { SWITCHYARD_DEMO: '0' })).toEqual(serve({ demo: false }));
    // A bare boolean flag does not swallow the next argument.
    expect(parse(['serve', '--demo', '--prefix=/x/'])).toEqual(serve({ demo: true, prefix: '/x/' }));
    expect(errorOf(['serve'], { SWITCHYARD_DEMO: 'sure' })).toBe(
      'SWITCHYARD_DEMO: got "sure", expected one of 1, true, yes, on, 0, false, no, off',
    );
  });

  test('etcd credentials need etcd and come in pairs; the password is never echoed', () => {
    expect(errorOf(['serve', '--etcd-username=u', '--etcd-password=p'])).toBe(
      '--etcd-username/--etcd-password (or SWITCHYARD_ETCD_USERNAME/SWITCHYARD_ETCD_PASSWORD) need --etcd (or SWITCHYARD_ETCD)',
    );
    expect(errorOf(['serve', '--etcd=http://a:1', '--etcd-username=u'])).toBe(
      'etcd authentication needs both --etcd-username and --etcd-password (or SWITCHYARD_ETCD_USERNAME/SWITCHYARD_ETCD_PASSWORD)',
    );
    expect(errorOf(['serve', '--etcd=http://a:1', '--etcd-username=u', '--etcd-password= '])).toBe(
      '--etcd-password: got (hidden), expected a non-empty value',
    );
  });

  test('an empty flag value is an error', () => {
    expect(errorOf(['serve', '--data-dir='])).toBe('--data-dir: got "", expected a non-empty value');
  });
});

describe('bootstrap', () => {
  test('defaults: node id from the host name, server from the xds-listen default', () => {
    expect(parse(['bootstrap'])).toEqual(bootstrap());
  });

  test('every flag', () => {
    expect(
      parse(['bootstrap', '--node-id', 'x', '--server=10.0.0.2:18000', '--cluster', 'web', '--zone=z1', '--region', 'r1']),
    ).toEqual(bootstrap({ nodeId: 'x', server: '10.0.0.2:18000', cluster: 'web', zone: 'z1', region: 'r1' }));
  });

  test('server follows SWITCHYARD_XDS_LISTEN, wildcards become loopback, --server wins', () => {
    expect(parse(['bootstrap'], { SWITCHYARD_XDS_LISTEN: '127.0.0.1:19000' })).toEqual(bootstrap({ server: '127.0.0.1:19000' }));
    expect(parse(['bootstrap'], { SWITCHYARD_XDS_LISTEN: '0.0.0.0:19000' })).toEqual(bootstrap({ server: '127.0.0.1:19000' }));
    expect(parse(['bootstrap'], { SWITCHYARD_XDS_LISTEN: '[::]:19000' })).toEqual(bootstrap({ server: '[::1]:19000' }));
    expect(parse(['bootstrap', '--server', 'cp:1'], { SWITCHYARD_XDS_LISTEN: '0.0.0.0:0' })).toEqual(bootstrap({ server: 'cp:1' }));
  });

  test('a listen address with port 0 cannot be dialed', () => {
    expect(errorOf(['bootstrap'], { SWITCHYARD_XDS_LISTEN: '127.0.0.1:0' })).toBe(
      'SWITCHYARD_XDS_LISTEN: got "127.0.0.1:0", port out of range, expected host:port such as 127.0.0.1:18000 or [::1]:18000, port 1-65535; or give --server',
    );
  });

  test('bad --server', () => {
    expect(errorOf(['bootstrap', '--server', 'http://cp:18000'])).toStartWith('--server: got "http://cp:18000", expected host:port');
    expect(errorOf(['bootstrap', '--server', '127.0.0.1:0'])).toStartWith('--server: got "127.0.0.1:0", port out of range');
  });

  test('serve flags are unknown to bootstrap', () => {
    expect(errorOf(['bootstrap', '--xds-listen', '127.0.0.1:1'])).toStartWith('unknown flag --xds-listen for "bootstrap"');
  });

  test('missing --node-id value', () => {
    expect(errorOf(['bootstrap', '--node-id'])).toBe('--node-id: missing value; write --node-id <value> or --node-id=<value>');
  });
});

describe('serve --envoy-listener', () => {
  test('flag and env var set the sidecar listener address', () => {
    expect(parse(['serve', '--envoy-listener', '127.0.0.1:16001'])).toEqual(serve({ envoyListener: { address: '127.0.0.1', port: 16001 } }));
    expect(parse(['serve'], { SWITCHYARD_ENVOY_LISTENER: '[::]:15002' })).toEqual(serve({ envoyListener: { address: '::', port: 15002 } }));
  });
  test('a host name or port 0 is rejected with what is expected', () => {
    expect(parse(['serve', '--envoy-listener', 'sidecar:15001'])).toEqual({
      ok: false,
      errors: ['--envoy-listener: got "sidecar:15001", "sidecar" is not an IP address; Envoy binds listeners to IP addresses such as 0.0.0.0:15001'],
    });
    const zero = parse(['serve', '--envoy-listener', '0.0.0.0:0']);
    expect(zero.ok).toBe(false);
  });
});

describe('register', () => {
  const required = ['register', '--etcd', 'http://127.0.0.1:2379', '--service', 'greeter', '--address', '10.0.0.7:50051'];
  const registerDefaults: RegisterConfig = {
    command: 'register',
    etcd: { endpoints: ['http://127.0.0.1:2379'], username: undefined, password: undefined },
    prefix: '/services/',
    service: 'greeter',
    host: '10.0.0.7',
    port: 50051,
    ttlSeconds: 10,
    weight: undefined,
    region: undefined,
    zone: undefined,
    subZone: undefined,
    priority: undefined,
    version: undefined,
    tags: {},
    drainGraceMs: 5000,
    logLevel: 'info',
  };
  const register = (over: Partial<RegisterConfig> = {}) => ok({ ...registerDefaults, ...over });

  test('the three required settings, everything else at its default', () => {
    expect(parse(required)).toEqual(register());
  });

  test('every flag, in both forms; --tag repeats', () => {
    const argv = [
      'register',
      '--etcd=http://a:1,http://b:2',
      '--etcd-username',
      'reg',
      '--etcd-password=pw',
      '--service',
      'pay.api',
      '--address',
      '[fd00::7]:8443',
      '--prefix=/reg',
      '--ttl',
      '3',
      '--weight=20',
      '--region',
      'eu',
      '--zone=eu-1a',
      '--sub-zone',
      'rack-4',
      '--priority=1',
      '--version',
      'v2',
      '--tag',
      'canary=true',
      '--tag=team=payments',
      '--tag',
      'empty=',
      '--drain-grace-ms',
      '0',
      '--log-level=debug',
    ];
    expect(parse(argv)).toEqual(
      register({
        etcd: { endpoints: ['http://a:1', 'http://b:2'], username: 'reg', password: 'pw' },
        prefix: '/reg/',
        service: 'pay.api',
        host: 'fd00::7',
        port: 8443,
        ttlSeconds: 3,
        weight: 20,
        region: 'eu',
        zone: 'eu-1a',
        subZone: 'rack-4',
        priority: 1,
        version: 'v2',
        tags: { canary: 'true', team: 'payments', empty: '' },
        drainGraceMs: 0,
        logLevel: 'debug',
      }),
    );
  });

  test('every env var', () => {
    const env: Env = {
      SWITCHYARD_ETCD: 'http://127.0.0.1:2379',
      SWITCHYARD_SERVICE: 'greeter',
      SWITCHYARD_ADDRESS: '10.0.0.7:50051',
      SWITCHYARD_PREFIX: '/svc/',
      SWITCHYARD_TTL: '5',
      SWITCHYARD_WEIGHT: '2',
      SWITCHYARD_REGION: 'r',
      SWITCHYARD_ZONE: 'z',
      SWITCHYARD_SUB_ZONE: 's',
      SWITCHYARD_PRIORITY: '3',
      SWITCHYARD_INSTANCE_VERSION: 'v1',
      SWITCHYARD_TAGS: 'a=1, b=2,',
      SWITCHYARD_DRAIN_GRACE_MS: '1500',
      SWITCHYARD_LOG_LEVEL: 'warn',
    };
    expect(parse(['register'], env)).toEqual(
      register({
        prefix: '/svc/',
        ttlSeconds: 5,
        weight: 2,
        region: 'r',
        zone: 'z',
        subZone: 's',
        priority: 3,
        version: 'v1',
        tags: { a: '1', b: '2' },
        drainGraceMs: 1500,
        logLevel: 'warn',
      }),
    );
  });

  test('flags override env vars; any --tag replaces SWITCHYARD_TAGS', () => {
    const env: Env = { SWITCHYARD_TAGS: 'a=1', SWITCHYARD_TTL: 'bad', SWITCHYARD_SERVICE: 'other' };
    expect(parse([...required, '--tag', 'b=2', '--ttl', '4'], env)).toEqual(register({ tags: { b: '2' }, ttlSeconds: 4 }));
  });

  test('--etcd, --service and --address are required; all missing ones are named', () => {
    expect(parse(['register'])).toEqual({
      ok: false,
      errors: [
        'register needs --etcd (or SWITCHYARD_ETCD): the etcd to register in, such as http://127.0.0.1:2379',
        'register needs --service (or SWITCHYARD_SERVICE): the service name clients dial as xds:///<service>',
        'register needs --address (or SWITCHYARD_ADDRESS): the IP:port clients reach this instance at, such as 10.0.0.7:50051',
      ],
    });
  });

  test('the address must be an IP literal with a port from 1', () => {
    expect(errorOf(['register', '--etcd=http://a:1', '--service=s', '--address', 'greeter-1:50051'])).toBe(
      '--address: got "greeter-1:50051", "greeter-1" is not an IP address; register the IP:port clients dial, such as 10.0.0.7:50051 or [::1]:50051 (host names are not resolved)',
    );
    expect(errorOf(['register', '--etcd=http://a:1', '--service=s', '--address', '10.0.0.7:0'])).toStartWith(
      '--address: got "10.0.0.7:0", port out of range',
    );
    expect(errorOf(['register', '--etcd=http://a:1', '--service=s', '--address', '::1:80'])).toStartWith('--address: got "::1:80", expected host:port');
  });

  test('numbers out of range say what is expected', () => {
    const r = parse([...required, '--ttl=0', '--weight=1000001', '--priority', '129', '--drain-grace-ms=-1']);
    expect(r).toEqual({
      ok: false,
      errors: [
        '--ttl: got "0", expected a whole number of seconds from 1 to 9000000000',
        '--weight: got "1000001", expected a whole number from 1 to 1000000',
        '--priority: got "129", expected a whole number from 0 to 128',
        '--drain-grace-ms: got "-1", expected a whole number of milliseconds from 0 to 9007199254740991',
      ],
    });
  });

  test('bad and repeated tags', () => {
    expect(parse([...required, '--tag', 'canary', '--tag', '=x', '--tag', 'a=1', '--tag', 'a=2'])).toEqual({
      ok: false,
      errors: [
        '--tag: got "canary", expected name=value, such as canary=true',
        '--tag: got "=x", expected name=value, such as canary=true',
        '--tag: tag "a" is given twice',
      ],
    });
    expect(errorOf(required, { SWITCHYARD_TAGS: 'a=1,a=2' })).toBe('SWITCHYARD_TAGS: got "a=1,a=2", tag "a" is given twice');
  });

  test('serve flags are unknown to register, and --tag needs a value', () => {
    expect(errorOf([...required, '--demo'])).toStartWith('unknown flag --demo for "register"; expected one of --etcd,');
    expect(errorOf([...required, '--tag'])).toBe('--tag: missing value; write --tag <value> or --tag=<value>');
  });
});

describe('serve --source and --routes-prefix', () => {
  test('repeated --source flags, or SWITCHYARD_SOURCES, add prefixes in other formats', () => {
    expect(parse(['serve', '--source', '/microservices/=kratos', '--source=user.rpc/=go-zero', '--source', '=go-zero'])).toEqual(
      serve({
        sources: [
          { prefix: '/microservices/', format: 'kratos' },
          { prefix: 'user.rpc/', format: 'go-zero' },
          { prefix: '', format: 'go-zero' },
        ],
      }),
    );
    expect(parse(['serve'], { SWITCHYARD_SOURCES: 'kitex/registry-etcd/=kitex, /rpcx/=rpcx' })).toEqual(
      serve({ sources: [{ prefix: 'kitex/registry-etcd/', format: 'kitex' }, { prefix: '/rpcx/', format: 'rpcx' }] }),
    );
    expect(parse(['serve', '--routes-prefix', '/routes'])).toEqual(serve({ routesPrefix: '/routes/' }));
  });

  test('an unknown format or a prefix without a trailing slash is rejected with what is expected', () => {
    expect(parse(['serve', '--source', '/m/=consul'])).toEqual({
      ok: false,
      errors: [
        '--source: got "/m/=consul", unknown format "consul", expected <prefix>=<format> such as /microservices/=kratos; formats: switchyard, etcd-naming, kratos, go-zero, kitex, rpcx',
      ],
    });
    expect(parse(['serve'], { SWITCHYARD_SOURCES: '/m=kratos' })).toEqual({
      ok: false,
      errors: ['SWITCHYARD_SOURCES: got "/m=kratos", prefix "/m" must end with "/" (or be empty for the whole keyspace)'],
    });
  });
});

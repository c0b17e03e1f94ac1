/**
 * compose.yaml cannot run here (no Docker engine), so this checks what would break `docker compose up`
 * without running it: every file it uses exists, every port agrees with the code's defaults, and the
 * services find each other by the names used in compose.yaml and envoy/*.yaml.
 */
import { describe, expect, test } from 'bun:test';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createSwitchyard } from '../../src/app.ts';
import { defaults } from '../../src/config/config.ts';
import { serviceNameProblem } from '../../src/catalog/service-name.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { createMemoryRegistry } from '../../src/registry/memory-registry.ts';
import { decodeMessage } from '../../src/xds/proto.ts';
import { OUTBOUND } from '../../src/xds/resources/envoy.ts';
import { TypeUrl } from '../../src/xds/type-urls.ts';
import {
  REPO_ROOT,
  commandOf,
  dependsOn,
  environmentOf,
  flagValue,
  portsOf,
  readCompose,
  readEnvoyBootstrap,
  splitHostPort,
  uninterpolate,
  type ComposeService,
} from '../harness/deploy-files.ts';

const ETCD_CLIENT_PORT = 2379;
const ETCD_PEER_PORT = 2380;
const compose = readCompose();
const services = compose.services;
const names = Object.keys(services);
const service = (name: string): ComposeService => {
  const s = services[name];
  if (!s) throw new Error(`compose.yaml has no service "${name}" (has ${names.join(', ')})`);
  return s;
};
const repoFile = (p: string) => join(REPO_ROOT, p);

/** Every string anywhere in a value, with its path. */
function strings(value: unknown, path = ''): [string, string][] {
  if (typeof value === 'string') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => strings(v, path ? `${path}.${k}` : k));
  return [];
}

/** The command of a service as one string (shell scripts included), compose escapes resolved. */
const commandText = (s: ComposeService) => commandOf(s).join(' ');

/** Port of the outbound listener a Switchyard built with default options gives Envoy sidecars. */
async function defaultOutboundPort(): Promise<number> {
  const sy = createSwitchyard({ source: createMemoryRegistry(), logger: silentLogger });
  try {
    const listener = sy.snapshots.current().get(TypeUrl.Listener, OUTBOUND);
    if (!listener) throw new Error(`no ${OUTBOUND} listener in a fresh snapshot`);
    const decoded = decodeMessage(TypeUrl.Listener, listener.bytes) as { address: { socket_address: { port_value: number } } };
    return decoded.address.socket_address.port_value;
  } finally {
    await sy.stop();
  }
}

const greeters = Object.entries(services).filter(([, s]) => commandText(s).includes('examples/greeter-server.ts'));
const envoyEntry = Object.entries(services).find(([, s]) => (s.volumes ?? []).some((v) => v.startsWith('./envoy/')));

describe('compose.yaml', () => {
  test('has etcd, Switchyard, several self-registering greeters, an Envoy sidecar and both kinds of client', () => {
    for (const name of ['etcd', 'switchyard', 'envoy', 'envoy-client', 'proxyless-client']) expect(names).toContain(name);
    expect(greeters.length).toBeGreaterThanOrEqual(2);
    expect(envoyEntry?.[0]).toBe('envoy');
  });

  test('every file it builds from, mounts or runs exists in the repo', () => {
    const referenced = new Set<string>();
    for (const [name, s] of Object.entries(services)) {
      if (s.build !== undefined) {
        const context = typeof s.build === 'string' ? s.build : s.build.context;
        const dockerfile = typeof s.build === 'string' ? 'Dockerfile' : (s.build.dockerfile ?? 'Dockerfile');
        expect(statSync(repoFile(context)).isDirectory()).toBe(true);
        referenced.add(join(context, dockerfile));
      }
      for (const v of s.volumes ?? []) {
        const host = v.split(':')[0]!;
        expect(host.startsWith('./')).toBe(true); // bind mounts from the repo only, no named volumes to create
        referenced.add(host);
      }
      // Scripts the app image runs, relative to its WORKDIR (the repo copy).
      for (const m of commandText(s).matchAll(/(?:^|[\s"'])((?:examples|bin|envoy|src|protos)\/[\w./-]+)/g)) referenced.add(m[1]!);
      expect(name).toMatch(/^[a-z0-9][a-z0-9-]*$/);
    }
    for (const p of referenced) expect({ file: p, exists: existsSync(repoFile(p)) }).toEqual({ file: p, exists: true });
    expect(referenced).toContain('examples/greeter-server.ts');
    expect(referenced).toContain('examples/envoy-client.ts');
    expect(referenced).toContain('examples/greeter-client.mjs');

    // The Dockerfile installs from the lockfile and puts `switchyard` and `bun` on PATH for the commands above.
    const dockerfile = readFileSync(repoFile('Dockerfile'), 'utf8');
    for (const m of dockerfile.matchAll(/^COPY\s+(.+)\s+\S+$/gm)) {
      for (const src of m[1]!.split(/\s+/)) expect(existsSync(repoFile(src))).toBe(true);
    }
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/^WORKDIR \/app$/m);
    expect(dockerfile).toMatch(/^ENV PATH=\/app\/bin:\/app\/node_modules\/\.bin:/m);
    const pkg = JSON.parse(readFileSync(repoFile('package.json'), 'utf8'));
    expect(pkg.bin.switchyard).toBe('bin/switchyard');
    expect(pkg.devDependencies.bun ?? pkg.dependencies.bun).toBeDefined();
    for (const [, s] of Object.entries(services).filter(([, s]) => s.build !== undefined)) {
      expect(['switchyard', 'bun', 'node', 'sh']).toContain(commandOf(s)[0]!);
    }
  });

  test('pulls pinned images only, and uses no compose variables ($$ is a literal $)', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build !== undefined) continue;
      expect({ name, image: s.image }).toEqual({ name, image: expect.stringMatching(/^[\w./-]+:v?[0-9]+\.[0-9]+\.[0-9]+$/) });
    }
    for (const [path, s] of strings(compose)) expect(() => uninterpolate(s)).not.toThrow(path);
  });

  test("publishes and binds the code's default ports: etcd 2379, xDS 18000, Envoy outbound 15001", async () => {
    const etcd = commandOf(service('etcd'));
    expect(flagValue(etcd, '--listen-client-urls')).toBe(`http://0.0.0.0:${ETCD_CLIENT_PORT}`);
    expect(flagValue(etcd, '--advertise-client-urls')).toBe(`http://etcd:${ETCD_CLIENT_PORT}`);
    expect(portsOf(service('etcd'))).toEqual([{ host: ETCD_CLIENT_PORT, container: ETCD_CLIENT_PORT }]);

    const xdsPort = splitHostPort(defaults.xdsListen).port;
    expect(flagValue(commandOf(service('switchyard')), '--xds-listen')).toBe(`0.0.0.0:${xdsPort}`);
    expect(portsOf(service('switchyard'))).toEqual([{ host: xdsPort, container: xdsPort }]);

    const outbound = await defaultOutboundPort();
    expect(outbound).toBe(15001);
    expect(portsOf(service('envoy'))).toEqual([{ host: outbound, container: outbound }]);
    expect(splitHostPort(environmentOf(service('envoy-client'))['ENVOY_TARGET']!)).toEqual({ host: 'envoy', port: outbound });

    // Nothing else publishes ports, so nothing else can collide on the host.
    const published = Object.entries(services).filter(([, s]) => portsOf(s).length > 0).map(([n]) => n);
    expect(published.sort()).toEqual(['envoy', 'etcd', 'switchyard']);
  });

  test('services reach each other by their compose names, the same names envoy/*.yaml uses', () => {
    // Every http://host:port is a service; only etcd is addressed that way (its peer port only by itself).
    for (const [path, s] of strings(compose)) {
      for (const m of s.matchAll(/https?:\/\/([a-z0-9.-]+):([0-9]+)/g)) {
        const inEtcd = path.startsWith('services.etcd.');
        // etcd's own listen addresses and health check.
        if (inEtcd && (m[1] === '0.0.0.0' || m[1] === '127.0.0.1')) continue;
        const port = inEtcd && m[2] === String(ETCD_PEER_PORT) ? ETCD_PEER_PORT : ETCD_CLIENT_PORT;
        expect({ path, host: m[1], port: Number(m[2]) }).toEqual({ path, host: 'etcd', port });
      }
    }
    expect(flagValue(commandOf(service('switchyard')), '--etcd')).toBe(`http://etcd:${ETCD_CLIENT_PORT}`);

    // Envoy's bootstraps name the xDS server by its compose service name and port.
    const xdsPort = splitHostPort(defaults.xdsListen).port;
    for (const path of ['envoy/sidecar-sotw.yaml', 'envoy/sidecar-delta.yaml']) {
      const b = readEnvoyBootstrap(path).roundTrip as any;
      const address = b.static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
      expect(address).toEqual({ address: 'switchyard', port_value: xdsPort });
    }

    // The proxyless client's gRPC bootstrap names the same server.
    const proxyless = commandText(service('proxyless-client'));
    expect(proxyless).toContain(`GRPC_XDS_BOOTSTRAP_CONFIG="$(switchyard bootstrap --server switchyard:${xdsPort}`);

    // depends_on names existing services; clients start after what they call.
    for (const [name, s] of Object.entries(services)) for (const d of dependsOn(s)) expect({ name, dependsOn: names.includes(d) }).toEqual({ name, dependsOn: true });
    expect(dependsOn(service('envoy'))).toContain('switchyard');
    expect(dependsOn(service('envoy-client'))).toContain('envoy');
    expect(dependsOn(service('proxyless-client'))).toContain('switchyard');
    for (const [name] of greeters) {
      expect(dependsOn(service('envoy-client'))).toContain(name);
      expect(dependsOn(service('proxyless-client'))).toContain(name);
    }
  });

  test('the greeters register one service that both clients call by name', () => {
    const envs = greeters.map(([, s]) => environmentOf(s));
    const serviceNames = new Set(envs.map((e) => e['GREETER_SERVICE']));
    expect(serviceNames.size).toBe(1);
    const [name] = serviceNames;
    expect(serviceNameProblem(name!)).toBeUndefined();
    expect(new Set(envs.map((e) => e['GREETER_ID'])).size).toBe(greeters.length);
    for (const e of envs) {
      expect(e['ETCD_ENDPOINTS']).toBe(`http://etcd:${ETCD_CLIENT_PORT}`);
      expect(Number(e['GREETER_PORT'])).toBeWithin(1, 65536);
    }
    expect(environmentOf(service('envoy-client'))['GREETER_AUTHORITY']).toBe(name!);
    expect(commandText(service('proxyless-client'))).toContain(`node examples/greeter-client.mjs 30 xds:///${name}`);
  });
});

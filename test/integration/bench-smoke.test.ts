/**
 * The benchmark scripts still work: each runs with `--quick` (seconds, small N) as a subprocess and must
 * exit 0, write its JSON and report that every client converged. Nothing here asserts a timing. Results
 * go to a temp dir (SWITCHYARD_BENCH_RESULTS), never over bench/results/.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { instanceDefaults } from '../../src/catalog/model.ts';
import { messageType } from '../../src/xds/proto.ts';
import { encodeService } from '../../src/xds/snapshot/service.ts';
import { TypeUrl } from '../../src/xds/type-urls.ts';
import {
  claPorts,
  clusterEdsName,
  encodeDeltaRequest,
  encodeSotwRequest,
  listenerRouteName,
  readDeltaResponse,
  readSotwResponse,
  resourceName,
  routeClusterName,
} from '../../bench/lib/wire.ts';

const root = path.join(import.meta.dir, '..', '..');
const resultsDir = mkdtempSync(path.join(tmpdir(), 'switchyard-bench-smoke-'));
afterAll(() => rmSync(resultsDir, { recursive: true, force: true }));

async function runQuick(script: string, env: Record<string, string> = {}): Promise<{ code: number; output: string; json: any }> {
  const proc = Bun.spawn([process.execPath, path.join(root, 'bench', `${script}.ts`), '--quick'], {
    cwd: root,
    env: { ...process.env, SWITCHYARD_BENCH_RESULTS: resultsDir, ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const file = path.join(resultsDir, `${script}.json`);
  const json = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
  return { code, output: `${stdout}\n${stderr}`, json };
}

describe('bench scripts in --quick mode', () => {
  test('propagation: both observers saw every change', async () => {
    const r = await runQuick('propagation');
    expect(r.code, r.output).toBe(0);
    expect(r.json.results.measured).toBeGreaterThan(0);
    expect(r.json.results.timedOut).toEqual({ etcdWatch: 0, switchyardAds: 0 });
  }, 40_000);

  test('s1-propagation with each ACK written as its response is read: every client converged', async () => {
    const r = await runQuick('s1-propagation', { SWITCHYARD_BENCH_ACKS: 'immediate' });
    expect(r.code, r.output).toBe(0);
    expect(r.json.parameters.acks).toBe('immediate');
    expect(r.json.checks.converged, r.output).toBe(true);
  }, 40_000);

  test('transport-floor: every round got every reply back, over both transports', async () => {
    const r = await runQuick('transport-floor');
    expect(r.code, r.output).toBe(0);
    expect(r.json.checks.converged, r.output).toBe(true);
    expect(r.json.results.rows.map((row: any) => [row.transport, row.completed])).toEqual([
      ['tcp', r.json.parameters.rounds],
      ['http2', r.json.parameters.rounds],
    ]);
  }, 40_000);

  for (const script of ['s1-propagation', 's2-streams', 's3-cold-start', 's4-churn', 's5-cost']) {
    test(`${script}: exits 0, writes its JSON, every client converged`, async () => {
      const r = await runQuick(script);
      expect(r.code, r.output).toBe(0);
      expect(r.json?.scenario).toBe(script);
      expect(r.json.machine.cores).toBeGreaterThan(0);
      expect(r.json.checks.converged, r.output).toBe(true);
      if (script === 's4-churn') {
        expect(r.json.checks.finalStateChecked).toBeGreaterThan(0);
        expect(r.json.checks.mismatched).toBe(0);
        // RSS sampled every second of the churn, and the drift figure made from those samples
        expect(r.json.results.controlPlane.rssSamples.length).toBeGreaterThanOrEqual(r.json.parameters.durationS);
        expect(Number.isFinite(r.json.results.controlPlane.rssDrift)).toBe(true);
      }
      if (script === 's3-cold-start') expect(r.json.results.phases.every((p: any) => p.mismatched === 0 && p.ready === p.clients)).toBe(true);
    }, 40_000);
  }
});

describe('the load generator reads and writes the wire format like protobufjs', () => {
  const instances = [5002, 5001, 5003].map((p) => instanceDefaults(`/services/greeter/127.0.0.1:${p}`, 'greeter', '127.0.0.1', p, 1));
  const byType = new Map(encodeService('greeter', instances).map((r) => [r.typeUrl, r]));

  test('resource names, the LDS→RDS→CDS→EDS references and endpoint ports', () => {
    expect(listenerRouteName(byType.get(TypeUrl.Listener)!.bytes)).toBe('greeter');
    expect(routeClusterName(byType.get(TypeUrl.RouteConfiguration)!.bytes)).toBe('greeter');
    expect(clusterEdsName(byType.get(TypeUrl.Cluster)!.bytes)).toBe('greeter');
    const cla = byType.get(TypeUrl.ClusterLoadAssignment)!;
    expect(resourceName(cla.bytes)).toBe('greeter');
    expect(claPorts(cla.bytes)).toEqual([5001, 5002, 5003]);
  });

  test('responses framed by protobufjs are read back', () => {
    const cla = byType.get(TypeUrl.ClusterLoadAssignment)!;
    const sotwType = messageType('envoy.service.discovery.v3.DiscoveryResponse');
    const sotw = sotwType.encode(sotwType.fromObject({ version_info: 'v1', resources: [{ type_url: cla.typeUrl, value: cla.bytes }], type_url: cla.typeUrl, nonce: '7' })).finish();
    const r = readSotwResponse(sotw);
    expect({ ...r, resources: r.resources.map(claPorts) }).toEqual({ typeUrl: cla.typeUrl, versionInfo: 'v1', nonce: '7', resources: [[5001, 5002, 5003]] });
    const deltaType = messageType('envoy.service.discovery.v3.DeltaDiscoveryResponse');
    const delta = deltaType.encode(
      deltaType.fromObject({
        resources: [{ name: 'greeter', version: 'abc', resource: { type_url: cla.typeUrl, value: cla.bytes } }],
        type_url: cla.typeUrl,
        nonce: '8',
        removed_resources: ['gone'],
      }),
    ).finish();
    const d = readDeltaResponse(delta);
    expect(d.resources.map((x) => [x.name, x.version, claPorts(x.body)])).toEqual([['greeter', 'abc', [5001, 5002, 5003]]]);
    expect([d.typeUrl, d.nonce, d.removed]).toEqual([cla.typeUrl, '8', ['gone']]);
  });

  test('requests decode with protobufjs', () => {
    const node = { id: 'n1', userAgentName: 'grpc-node-js', clientFeatures: ['f'] };
    const sotwType = messageType('envoy.service.discovery.v3.DiscoveryRequest');
    expect(sotwType.toObject(sotwType.decode(encodeSotwRequest({ node, typeUrl: TypeUrl.Listener, names: ['a', 'b'], versionInfo: 'v', nonce: '3' })))).toMatchObject({
      version_info: 'v',
      node: { id: 'n1', user_agent_name: 'grpc-node-js', client_features: ['f'] },
      resource_names: ['a', 'b'],
      type_url: TypeUrl.Listener,
      response_nonce: '3',
    });
    const deltaType = messageType('envoy.service.discovery.v3.DeltaDiscoveryRequest');
    expect(deltaType.toObject(deltaType.decode(encodeDeltaRequest({ typeUrl: TypeUrl.Cluster, subscribe: ['x'], unsubscribe: ['y'], nonce: '4' })))).toMatchObject({
      type_url: TypeUrl.Cluster,
      resource_names_subscribe: ['x'],
      resource_names_unsubscribe: ['y'],
      response_nonce: '4',
    });
  });
});

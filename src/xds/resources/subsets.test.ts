import { describe, expect, test } from 'bun:test';
import { makeInstance } from '../../../test/fixtures/catalog.ts';
import { parseRoutePolicy, type RoutePolicy } from '../../catalog/route-policy.ts';
import { encodeMessage } from '../proto.ts';
import { TypeUrl } from '../type-urls.ts';
import { validateResource } from '../validate/index.ts';
import { buildEdsCluster } from './cluster.ts';
import { buildLoadAssignment } from './endpoint.ts';
import { buildSubsetAssignments, buildSubsetClusters, selectSubset, subsetClusterName, subsetsInUse, targetClusterName } from './subsets.ts';

const policy = (value: unknown): RoutePolicy => {
  const r = parseRoutePolicy('/switchyard/routes/greeter', JSON.stringify(value));
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.value;
};

const v1 = makeInstance('greeter', 1, { version: 'v1' });
const v1Canary = makeInstance('greeter', 2, { version: 'v1', tags: { track: 'canary', zone: 'a' } });
const v2 = makeInstance('greeter', 3, { version: 'v2', tags: { track: 'stable' } });
const bare = makeInstance('greeter', 4);
const all = [v1, v1Canary, v2, bare];

describe('subset names', () => {
  test('a subset cluster is <service>/<subset>; "*" is the service itself', () => {
    expect(subsetClusterName('greeter', 'v1')).toBe('greeter/v1');
    expect(targetClusterName('greeter', 'v1')).toBe('greeter/v1');
    expect(targetClusterName('greeter', '*')).toBe('greeter');
  });
});

describe('selectSubset', () => {
  test.each([
    ['version', { version: 'v1', tags: {} }, [v1, v1Canary]],
    ['one tag', { tags: { track: 'canary' } }, [v1Canary]],
    ['version and tags, all must match', { version: 'v1', tags: { track: 'canary', zone: 'a' } }, [v1Canary]],
    ['a tag with another value', { version: 'v2', tags: { track: 'canary' } }, []],
    ['a version nobody has', { version: 'v9', tags: {} }, []],
    ['a tag named like an Object.prototype member', { tags: { constructor: 'x' } }, []],
  ])('%s', (_name, selector, expected) => {
    expect(selectSubset(all, selector)).toEqual(expected);
  });
});

describe('subsetsInUse', () => {
  const p = policy({
    subsets: { v1: { version: 'v1' }, unused: { version: 'v0' }, v2: { version: 'v2' }, canary: { tags: { track: 'canary' } } },
    routes: [{ match: { headers: [{ name: 'x-canary', exact: '1' }] }, to: 'canary' }, { split: { v2: 10, '*': 10, v1: 80 } }],
  });

  test('only subsets a route targets, in the order they are defined; "*" is no subset', () => {
    expect(subsetsInUse(p).map((s) => s.name)).toEqual(['v1', 'v2', 'canary']);
  });

  test('no policy, or a policy without subsets, uses none', () => {
    expect(subsetsInUse(undefined)).toEqual([]);
    expect(subsetsInUse(policy({ routes: [{ timeout: '1s' }] }))).toEqual([]);
  });

  test('subset resources: a cluster and an assignment of the selected instances per subset in use', () => {
    expect(subsetResources('greeter', p, all)).toEqual([
      buildEdsCluster('greeter/v1'),
      buildLoadAssignment('greeter/v1', [v1, v1Canary]),
      buildEdsCluster('greeter/v2'),
      buildLoadAssignment('greeter/v2', [v2]),
      buildEdsCluster('greeter/canary'),
      buildLoadAssignment('greeter/canary', [v1Canary]),
    ]);
    expect(subsetResources('greeter', undefined, all)).toEqual([]);
  });

  test('a subset cluster and its assignment, spelled out; an empty subset gets an empty assignment', () => {
    const [cluster, cla] = subsetResources('greeter', policy({ subsets: { v2: { version: 'v2' } }, routes: [{ to: 'v2' }] }), all);
    expect(cluster).toEqual({
      typeUrl: TypeUrl.Cluster,
      name: 'greeter/v2',
      message: expect.objectContaining({ name: 'greeter/v2', type: 'EDS', eds_cluster_config: expect.objectContaining({ service_name: 'greeter/v2' }) }),
    });
    expect(cla).toEqual(buildLoadAssignment('greeter/v2', [v2]));
    const empty = subsetResources('greeter', policy({ subsets: { v9: { version: 'v9' } }, routes: [{ to: 'v9' }] }), all);
    expect(empty[1]).toEqual({ typeUrl: TypeUrl.ClusterLoadAssignment, name: 'greeter/v9', message: { cluster_name: 'greeter/v9' } });
  });

  test('every subset resource passes Envoy validation', () => {
    const draining = makeInstance('greeter', 5, { version: 'v1', draining: true, locality: { region: 'eu', zone: 'b', subZone: '' }, priority: 1 });
    for (const r of subsetResources('greeter', p, [...all, draining])) {
      expect({ name: r.name, errors: validateResource(r.typeUrl, encodeMessage(r.typeUrl, r.message)) }).toEqual({ name: r.name, errors: [] });
    }
  });
});

/** Each subset's cluster followed by its assignment, as the service chain and assignments put them together. */
function subsetResources(service: string, p: Parameters<typeof buildSubsetClusters>[1], instances: Parameters<typeof buildSubsetAssignments>[2]) {
  const assignments = buildSubsetAssignments(service, p, instances);
  return buildSubsetClusters(service, p).flatMap((cluster, i) => [cluster, assignments[i]!]);
}

import type { HeaderMatch, PolicyRoute, RetryPolicy, RoutePolicy } from '../../catalog/route-policy.ts';
import { targetClusterName } from './subsets.ts';
import type { ProtoObject } from './types.ts';

/**
 * The routes of a service's virtual host. Without a policy: every path to the service's cluster with the
 * route timeout off (Envoy's default 15 s would cut long-lived gRPC streams). With one: its routes in
 * order, the last always a catch-all (parseRoutePolicy guarantees it). Shapes every client accepts
 * (xds-notes §2.3):
 * - header matchers use the legacy `exact_match`/`prefix_match`/`present_match`; C-core 1.51 NACKs `string_match`;
 * - weighted clusters sum to 100, so `total_weight` stays unset (C-core 1.51 defaults it to 100);
 * - a timeout is sent as `timeout` for Envoy and as `max_stream_duration` for gRPC (A31), which ignores `timeout`;
 * - retry policies follow A44: `num_retries` >= 1, `retry_back_off.base_interval` > 0, max >= base.
 */
export function buildPolicyRoutes(service: string, policy: RoutePolicy | undefined): ProtoObject[] {
  if (!policy) return [defaultRoute(service)];
  return policy.routes.map((r) => buildRoute(service, r));
}

const defaultRoute = (service: string): ProtoObject => ({ match: { prefix: '/' }, route: { cluster: service, timeout: {} } });

/** Milliseconds as a google.protobuf.Duration object, zero fields left out. */
export function durationFromMs(ms: number): ProtoObject {
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms % 1000) * 1_000_000;
  return { ...(seconds > 0 ? { seconds } : {}), ...(nanos > 0 ? { nanos } : {}) };
}

function buildRoute(service: string, r: PolicyRoute): ProtoObject {
  const match: Record<string, unknown> = { prefix: r.match?.pathPrefix ?? '/' };
  if (r.match && r.match.headers.length > 0) match.headers = r.match.headers.map(headerMatcher);
  const [only, ...more] = r.targets;
  const route: Record<string, unknown> =
    only && more.length === 0
      ? { cluster: targetClusterName(service, only.to) }
      : { weighted_clusters: { clusters: r.targets.map((t) => ({ name: targetClusterName(service, t.to), weight: { value: t.weight } })) } };
  route.timeout = r.timeoutMs === undefined ? {} : durationFromMs(r.timeoutMs);
  if (r.timeoutMs !== undefined) route.max_stream_duration = { max_stream_duration: durationFromMs(r.timeoutMs) };
  if (r.retry) route.retry_policy = retryPolicy(r.retry);
  return { match, route };
}

function headerMatcher(h: HeaderMatch): ProtoObject {
  switch (h.kind) {
    case 'exact':
      return { name: h.name, exact_match: h.value };
    case 'prefix':
      return { name: h.name, prefix_match: h.value };
    case 'present':
      return { name: h.name, present_match: true };
  }
}

function retryPolicy({ on, retries, backoff }: RetryPolicy): ProtoObject {
  return {
    retry_on: on.join(','),
    num_retries: { value: retries },
    ...(backoff
      ? {
          retry_back_off: {
            base_interval: durationFromMs(backoff.baseMs),
            ...(backoff.maxMs === undefined ? {} : { max_interval: durationFromMs(backoff.maxMs) }),
          },
        }
      : {}),
  };
}

const PREFIX = 'type.googleapis.com/';

/** The four ADS resource types (xds-notes §1.2). */
export const TypeUrl = {
  Listener: `${PREFIX}envoy.config.listener.v3.Listener`,
  RouteConfiguration: `${PREFIX}envoy.config.route.v3.RouteConfiguration`,
  Cluster: `${PREFIX}envoy.config.cluster.v3.Cluster`,
  ClusterLoadAssignment: `${PREFIX}envoy.config.endpoint.v3.ClusterLoadAssignment`,
} as const;
export type AdsTypeUrl = (typeof TypeUrl)[keyof typeof TypeUrl];

/** Types embedded inside resources as `Any`. */
export const EmbeddedTypeUrl = {
  HttpConnectionManager: `${PREFIX}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
  Router: `${PREFIX}envoy.extensions.filters.http.router.v3.Router`,
  HttpProtocolOptions: `${PREFIX}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`,
} as const;

/** Push order on one stream: clusters before their endpoints, listeners before their routes (xds-notes §1.10). */
export const PUSH_ORDER: readonly AdsTypeUrl[] = [
  TypeUrl.Cluster,
  TypeUrl.ClusterLoadAssignment,
  TypeUrl.Listener,
  TypeUrl.RouteConfiguration,
];

const ADS_TYPES = new Set<string>(Object.values(TypeUrl));
export const isAdsTypeUrl = (t: string): t is AdsTypeUrl => ADS_TYPES.has(t);

/** LDS and CDS responses carry the full subscribed set in SotW; omission means deletion (xds-notes §1.7). */
export const fullStateInSotW = (t: AdsTypeUrl): boolean => t === TypeUrl.Listener || t === TypeUrl.Cluster;

/** Wildcard subscription exists only for LDS and CDS (xds-notes §1.6). */
export const allowsWildcard = fullStateInSotW;

export const shortTypeName = (t: string): string => t.slice(t.lastIndexOf('.') + 1);

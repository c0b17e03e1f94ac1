import type { Instance } from '../../catalog/model.ts';
import { Code, SwitchyardError } from '../../lib/errors.ts';
import { localityGroups, type LocalityGroup } from '../resources/endpoint.ts';
import { TypeUrl } from '../type-urls.ts';
import { formatValidationErrors, validateMessage, validateResource, type ValidationError } from '../validate/index.ts';

/**
 * ClusterLoadAssignments written straight to bytes: the bytes protobufjs makes of buildLoadAssignment
 * (assignment.test.ts holds the two together), without the object tree, protobufjs's `fromObject` and
 * the decode validation needs. An endpoint change re-encodes its whole assignment, so this is the
 * control plane's busiest encoding under churn.
 *
 * Validation is as thorough as for any other resource. Without `known` the whole assignment is validated
 * from its bytes; with it, the work is split where no rule crosses the split: each instance's LbEndpoint
 * is validated from its bytes when the instance is new (`known` says which are not), and the rest (cluster
 * name, locality weights, priorities) from the values written.
 */
export function encodeAssignment(clusterName: string, instances: readonly Instance[], known?: (i: Instance) => boolean): Uint8Array {
  const groups = localityGroups(instances);
  const nameBytes = utf8Length(clusterName);
  const groupSizes = groups.map(groupSize);
  const out = new Writer(groupSizes.reduce((size, g) => size + field(g), field(nameBytes)));
  out.tag(CLA_CLUSTER_NAME).string(clusterName, nameBytes);
  groups.forEach((g, gi) => {
    out.tag(CLA_ENDPOINTS).varint(groupSizes[gi]!);
    writeLocality(out, g);
    g.instances.forEach((i, ii) => {
      const start = writeLbEndpoint(out, i);
      if (known && !known(i)) check(clusterName, validateResource(LB_ENDPOINT_URL, out.buf.subarray(start, out.pos)), `endpoints[${gi}].lb_endpoints[${ii}].`);
    });
    out.tag(LLE_WEIGHT).varint(uint32ValueSize(g.weight)).tag(UINT32_VALUE).varint(g.weight >>> 0);
    if (g.priority > 0) out.tag(LLE_PRIORITY).varint(g.priority);
  });
  // Nothing known (a service's first encode): one pass over the whole assignment costs less than one per endpoint.
  if (known) check(clusterName, validateMessage(CLA_TYPE, envelope(clusterName, groups)), '');
  else check(clusterName, validateResource(TypeUrl.ClusterLoadAssignment, out.buf), '');
  return out.buf;
}

/**
 * The instances of `current` that are the very objects of `previous` (both sorted by key, as a
 * catalog's services are), so what `encodeAssignment` validated for `previous` is not validated again.
 * Anything out of order only makes more instances count as new.
 */
export function knownFrom(previous: readonly Instance[], current: readonly Instance[]): (i: Instance) => boolean {
  let fresh: Set<Instance> | undefined;
  let j = 0;
  for (const i of current) {
    while (j < previous.length && previous[j]!.key < i.key) j++;
    if (previous[j] !== i) (fresh ??= new Set()).add(i);
  }
  return fresh ? (i) => !fresh.has(i) : () => true;
}

const CLA_TYPE = 'envoy.config.endpoint.v3.ClusterLoadAssignment';
const LB_ENDPOINT_URL = 'type.googleapis.com/envoy.config.endpoint.v3.LbEndpoint';

// Field tags (field number << 3 | wire type), per message.
const CLA_CLUSTER_NAME = 0x0a;
const CLA_ENDPOINTS = 0x12;
const LLE_LOCALITY = 0x0a;
const LLE_LB_ENDPOINTS = 0x12;
const LLE_WEIGHT = 0x1a;
const LLE_PRIORITY = 0x28;
const LOCALITY_REGION = 0x0a;
const LOCALITY_ZONE = 0x12;
const LOCALITY_SUB_ZONE = 0x1a;
const LB_ENDPOINT = 0x0a;
const LB_HEALTH_STATUS = 0x10;
const LB_WEIGHT = 0x22;
const ENDPOINT_ADDRESS = 0x0a;
const ADDRESS_SOCKET_ADDRESS = 0x0a;
const SOCKET_ADDRESS_ADDRESS = 0x12;
const SOCKET_ADDRESS_PORT = 0x18;
const UINT32_VALUE = 0x08;
/** envoy.config.core.v3.HealthStatus */
const HEALTHY = 1;
const DRAINING = 3;

/** The parts of the assignment outside its LbEndpoints, for the validator, as they are written. */
function envelope(clusterName: string, groups: readonly LocalityGroup[]): object {
  return {
    cluster_name: clusterName,
    endpoints: groups.map((g) => ({
      locality: { region: g.locality.region, zone: g.locality.zone, sub_zone: g.locality.subZone },
      load_balancing_weight: { value: g.weight >>> 0 },
      priority: g.priority,
    })),
  };
}

function check(clusterName: string, errors: readonly ValidationError[], pathPrefix: string): void {
  if (errors.length === 0) return;
  const located = errors.map((e) => ({ ...e, path: pathPrefix + e.path }));
  throw new SwitchyardError(Code.InvalidArgument, formatValidationErrors(clusterName, TypeUrl.ClusterLoadAssignment, located));
}

function writeLocality(out: Writer, { locality: { region, zone, subZone } }: LocalityGroup): void {
  out.tag(LLE_LOCALITY).varint(localitySize(region, zone, subZone));
  if (region) out.tag(LOCALITY_REGION).string(region, utf8Length(region));
  if (zone) out.tag(LOCALITY_ZONE).string(zone, utf8Length(zone));
  if (subZone) out.tag(LOCALITY_SUB_ZONE).string(subZone, utf8Length(subZone));
}

/** Writes the lb_endpoints field; returns where its LbEndpoint message starts. */
function writeLbEndpoint(out: Writer, i: Instance): number {
  const socketAddress = socketAddressSize(i);
  const address = field(socketAddress);
  out.tag(LLE_LB_ENDPOINTS).varint(lbEndpointSize(i));
  const start = out.pos;
  out.tag(LB_ENDPOINT).varint(field(address)).tag(ENDPOINT_ADDRESS).varint(address).tag(ADDRESS_SOCKET_ADDRESS).varint(socketAddress);
  out.tag(SOCKET_ADDRESS_ADDRESS).string(i.host, utf8Length(i.host)).tag(SOCKET_ADDRESS_PORT).varint(i.port);
  out.tag(LB_HEALTH_STATUS).varint(i.draining ? DRAINING : HEALTHY);
  out.tag(LB_WEIGHT).varint(uint32ValueSize(i.weight)).tag(UINT32_VALUE).varint(i.weight >>> 0);
  return start;
}

function groupSize(g: LocalityGroup): number {
  const { region, zone, subZone } = g.locality;
  let size = field(localitySize(region, zone, subZone)) + field(uint32ValueSize(g.weight));
  if (g.priority > 0) size += 1 + varintSize(g.priority);
  for (const i of g.instances) size += field(lbEndpointSize(i));
  return size;
}

function localitySize(region: string, zone: string, subZone: string): number {
  return (region ? field(utf8Length(region)) : 0) + (zone ? field(utf8Length(zone)) : 0) + (subZone ? field(utf8Length(subZone)) : 0);
}

const socketAddressSize = (i: Instance) => field(utf8Length(i.host)) + 1 + varintSize(i.port);
/** endpoint { address { socket_address } }, health_status, load_balancing_weight */
const lbEndpointSize = (i: Instance) => field(field(field(socketAddressSize(i)))) + 2 + field(uint32ValueSize(i.weight));
const uint32ValueSize = (value: number) => 1 + varintSize(value >>> 0);
/** A length-delimited field of a message numbered below 16: tag, length, payload. */
const field = (payload: number) => 1 + varintSize(payload) + payload;
const varintSize = (n: number) => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);

function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

/** Writes into a buffer sized up front. */
class Writer {
  readonly buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  tag(tag: number): this {
    this.buf[this.pos++] = tag;
    return this;
  }

  varint(n: number): this {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.pos++] = n;
    return this;
  }

  string(s: string, byteLength: number): this {
    this.varint(byteLength);
    if (byteLength === s.length) for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
    else this.pos += this.buf.write(s, this.pos, 'utf8');
    return this;
  }
}

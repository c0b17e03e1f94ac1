/**
 * Just enough protobuf wire format for the load generator: frames ADS requests and reads the few fields
 * of responses a client needs to know what it holds, without loading the Envoy protos. Field numbers
 * are from envoy/service/discovery/v3/discovery.proto and the resource protos (checked against the
 * protobufjs root in test/integration/bench-smoke.test.ts).
 * @module
 */

const utf8 = new TextEncoder();
const text = new TextDecoder();

// --- reading ---------------------------------------------------------------------------------------

/** The varint at `buf[i]`: its value and where the next byte is. */
function readVarint(buf: Uint8Array, i: number): [number, number] {
  let v = 0;
  let shift = 0;
  let b: number;
  do {
    b = buf[i++]!;
    v += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  return [v, i];
}

/**
 * Walks the fields of `buf[from, to)`, calling `onBytes(field, start, end)` for length-delimited ones and
 * `onVarint(field, value)` for varints; a callback returning true stops the walk.
 */
function walk(
  buf: Uint8Array,
  from: number,
  to: number,
  onBytes: (field: number, start: number, end: number) => boolean | void,
  onVarint: (field: number, value: number) => boolean | void = () => {},
): void {
  let i = from;
  while (i < to) {
    const [key, afterKey] = readVarint(buf, i);
    i = afterKey;
    const wire = key & 7;
    const field = key >>> 3;
    if (wire === 0) {
      const [v, next] = readVarint(buf, i);
      i = next;
      if (onVarint(field, v)) return;
    } else if (wire === 2) {
      const [len, start] = readVarint(buf, i);
      i = start + len;
      if (onBytes(field, start, i)) return;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported wire type ${wire} at ${i}`);
  }
}

/** Calls `onField(field, start, end)` for every length-delimited field of `buf[from, to)`; skips the rest. */
export function eachBytesField(buf: Uint8Array, onField: (field: number, start: number, end: number) => void, from = 0, to = buf.length): void {
  walk(buf, from, to, (f, s, e) => void onField(f, s, e));
}

/** The first varint field `field` in `buf[from, to)`, or 0. */
function varintField(buf: Uint8Array, field: number, from: number, to: number): number {
  let found = 0;
  walk(buf, from, to, () => false, (f, v) => f === field && ((found = v), true));
  return found;
}

/** [start, end) of the first length-delimited field along `path`, or undefined. */
function at(buf: Uint8Array, path: readonly number[], from = 0, to = buf.length): [number, number] | undefined {
  let range: [number, number] | undefined = [from, to];
  for (const field of path) {
    const [s, e]: [number, number] = range;
    range = undefined;
    eachBytesField(buf, (f, fs, fe) => {
      if (!range && f === field) range = [fs, fe];
    }, s, e);
    if (!range) return undefined;
  }
  return range;
}

const str = (buf: Uint8Array, r: [number, number] | undefined): string | undefined => (r ? text.decode(buf.subarray(r[0], r[1])) : undefined);

export interface SotwResponse {
  typeUrl: string;
  versionInfo: string;
  nonce: string;
  /** `Any.value` of each resource (the resource message). */
  resources: Uint8Array[];
}

export function readSotwResponse(buf: Uint8Array): SotwResponse {
  const r: SotwResponse = { typeUrl: '', versionInfo: '', nonce: '', resources: [] };
  eachBytesField(buf, (f, s, e) => {
    if (f === 1) r.versionInfo = text.decode(buf.subarray(s, e));
    else if (f === 2) {
      const v = at(buf, [2], s, e);
      r.resources.push(v ? buf.subarray(v[0], v[1]) : new Uint8Array());
    } else if (f === 4) r.typeUrl = text.decode(buf.subarray(s, e));
    else if (f === 5) r.nonce = text.decode(buf.subarray(s, e));
  });
  return r;
}

export interface DeltaResource {
  name: string;
  version: string;
  /** The resource message (`Resource.resource.value`). */
  body: Uint8Array;
}

export interface DeltaResponse {
  typeUrl: string;
  nonce: string;
  resources: DeltaResource[];
  removed: string[];
}

export function readDeltaResponse(buf: Uint8Array): DeltaResponse {
  const r: DeltaResponse = { typeUrl: '', nonce: '', resources: [], removed: [] };
  eachBytesField(buf, (f, s, e) => {
    if (f === 2) {
      const res: DeltaResource = { name: '', version: '', body: new Uint8Array() };
      eachBytesField(buf, (rf, rs, re) => {
        if (rf === 3) res.name = text.decode(buf.subarray(rs, re));
        else if (rf === 1) res.version = text.decode(buf.subarray(rs, re));
        else if (rf === 2) {
          const v = at(buf, [2], rs, re);
          if (v) res.body = buf.subarray(v[0], v[1]);
        }
      }, s, e);
      r.resources.push(res);
    } else if (f === 4) r.typeUrl = text.decode(buf.subarray(s, e));
    else if (f === 5) r.nonce = text.decode(buf.subarray(s, e));
    else if (f === 6) r.removed.push(text.decode(buf.subarray(s, e)));
  });
  return r;
}

/** Field 1 of Listener, RouteConfiguration, Cluster and ClusterLoadAssignment is the name. */
export const resourceName = (body: Uint8Array): string => str(body, at(body, [1])) ?? '';

/** Listener → api_listener(19) → Any(1) → value(2) → HCM.rds(3) → route_config_name(2). */
export const listenerRouteName = (body: Uint8Array): string | undefined => str(body, at(body, [19, 1, 2, 3, 2]));

/** RouteConfiguration → virtual_hosts(2)[0] → routes(3)[0] → route(2) → cluster(1). */
export const routeClusterName = (body: Uint8Array): string | undefined => str(body, at(body, [2, 3, 2, 1]));

/** Cluster → eds_cluster_config(3) → service_name(2), else the cluster's name. */
export const clusterEdsName = (body: Uint8Array): string => str(body, at(body, [3, 2])) || resourceName(body);

/** Sorted ports of every endpoint of a ClusterLoadAssignment (endpoints(2) → lb_endpoints(2) → endpoint(1) → address(1) → socket_address(1) → port(3)). */
export function claPorts(body: Uint8Array): number[] {
  const ports: number[] = [];
  eachBytesField(body, (f, s, e) => {
    if (f !== 2) return;
    eachBytesField(body, (lf, ls, le) => {
      if (lf !== 2) return;
      const sa = at(body, [1, 1, 1], ls, le);
      if (sa) ports.push(varintField(body, 3, sa[0], sa[1]));
    }, s, e);
  });
  return ports.sort((a, b) => a - b);
}

// --- writing ---------------------------------------------------------------------------------------

/** A message under construction: a list of encoded parts. */
class Out {
  parts: Uint8Array[] = [];
  size = 0;
  private push(b: Uint8Array): this {
    this.parts.push(b);
    this.size += b.length;
    return this;
  }
  varint(v: number): this {
    const bytes: number[] = [];
    while (v > 0x7f) {
      bytes.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    bytes.push(v);
    return this.push(Uint8Array.from(bytes));
  }
  bytes(field: number, b: Uint8Array): this {
    return this.varint((field << 3) | 2).varint(b.length).push(b);
  }
  string(field: number, s: string | undefined): this {
    return s ? this.bytes(field, utf8.encode(s)) : this;
  }
  strings(field: number, ss: Iterable<string>): this {
    for (const s of ss) this.bytes(field, utf8.encode(s));
    return this;
  }
  message(field: number, m: Out | undefined): this {
    return m ? this.bytes(field, m.finish()) : this;
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

export interface NodeSpec {
  id: string;
  userAgentName: string;
  clientFeatures?: readonly string[];
}

const node = (n: NodeSpec | undefined) =>
  n && new Out().string(1, n.id).string(2, 'switchyard-bench').string(6, n.userAgentName).strings(10, n.clientFeatures ?? []);

export function encodeSotwRequest(r: { node?: NodeSpec; typeUrl: string; names: Iterable<string>; versionInfo?: string; nonce?: string }): Uint8Array {
  return new Out().string(1, r.versionInfo).message(2, node(r.node)).strings(3, r.names).string(4, r.typeUrl).string(5, r.nonce).finish();
}

export function encodeDeltaRequest(r: { node?: NodeSpec; typeUrl: string; subscribe?: Iterable<string>; unsubscribe?: Iterable<string>; nonce?: string }): Uint8Array {
  return new Out()
    .message(1, node(r.node))
    .string(2, r.typeUrl)
    .strings(3, r.subscribe ?? [])
    .strings(4, r.unsubscribe ?? [])
    .string(6, r.nonce)
    .finish();
}

/** A gRPC length-prefixed message (uncompressed). */
export function grpcFrame(msg: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + msg.length);
  new DataView(out.buffer).setUint32(1, msg.length);
  out.set(msg, 5);
  return out;
}

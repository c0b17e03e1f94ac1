/**
 * The protobufjs root for Envoy/xDS messages, loaded once from the .proto files that ship inside the
 * installed `@grpc/grpc-js-xds` package (never copied into this repo). Field names keep proto casing.
 * @module
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { readCachedRoot, writeCachedRoot } from './proto-cache.ts';

const ENTRY_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
];

/** Directories that hold the third-party protos, in lookup order. */
export function protoIncludeDirs(): string[] {
  const require = createRequire(import.meta.url);
  const xdsPackage = path.dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  const protobufjsPackage = path.dirname(require.resolve('protobufjs/package.json'));
  const deps = path.join(xdsPackage, 'deps');
  return [
    ...['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(deps, d)),
    protobufjsPackage,
  ];
}

let cached: protobuf.Root | undefined;

/** Where the parsed root is cached (protos/generated, a build artifact outside git); see proto-cache.ts. */
const PROTO_CACHE_FILE = fileURLToPath(new URL('../../protos/generated/envoy-root.json', import.meta.url));

/** Names what the cache was made from: a different install, version or file list makes it stale. */
export function protoCacheKey(): string {
  const require = createRequire(import.meta.url);
  const version = (pkg: string) => (require(`${pkg}/package.json`) as { version: string }).version;
  const dirs = protoIncludeDirs();
  return JSON.stringify({ dirs, xds: version('@grpc/grpc-js-xds'), protobufjs: version('protobufjs'), files: ENTRY_FILES });
}

/** Loads (once) and returns the root with every message Switchyard encodes or decodes. */
export function protoRoot(extraFiles: readonly string[] = []): protobuf.Root {
  cached ??= loadEnvoyRoot();
  if (extraFiles.length > 0) parseProtoFiles(cached, extraFiles);
  return cached;
}

function loadEnvoyRoot(): protobuf.Root {
  const key = protoCacheKey();
  const fromCache = readCachedRoot(PROTO_CACHE_FILE, key);
  if (fromCache) return fromCache;
  const root = parseProtoFiles(new protobuf.Root(), ENTRY_FILES);
  writeCachedRoot(PROTO_CACHE_FILE, key, root);
  return root;
}

/** Parses `files` (paths under the include dirs) into `root`, skipping those it already holds. */
export function parseProtoFiles(root: protobuf.Root, files: readonly string[] = ENTRY_FILES): protobuf.Root {
  const dirs = protoIncludeDirs();
  root.resolvePath = (_origin, target) => {
    if (path.isAbsolute(target) && existsSync(target)) return target;
    for (const d of dirs) {
      const p = path.join(d, target);
      if (existsSync(p)) return p;
    }
    throw new Error(`proto import ${target} not found under ${dirs.join(', ')}; is @grpc/grpc-js-xds installed?`);
  };
  root.loadSync([...files], { keepCase: true });
  root.resolveAll();
  return root;
}

const types = new Map<string, protobuf.Type>();

/** The protobufjs type of a fully qualified message name (looked up once; protobufjs lookups walk the tree). */
export function messageType(fullName: string): protobuf.Type {
  let type = types.get(fullName);
  if (!type) types.set(fullName, (type = protoRoot().lookupType(fullName)));
  return type;
}

/** `type.googleapis.com/a.b.C` → the protobufjs type of `a.b.C`. */
export function typeForUrl(typeUrl: string): protobuf.Type {
  return messageType(typeUrl.slice(typeUrl.lastIndexOf('/') + 1));
}

/**
 * Encodes a plain object (proto field names, enums by name, nested `Any` as `{'@type': url, ...fields}`).
 * protobufjs coerces rather than rejects odd values, so callers pass objects built by typed builders.
 */
export function encodeMessage(typeUrl: string, value: object): Uint8Array {
  const type = typeForUrl(typeUrl);
  return type.encode(type.fromObject(value)).finish();
}

/** Decodes bytes to a plain object with enums as names and 64-bit ints as numbers. */
export function decodeMessage(typeUrl: string, bytes: Uint8Array): Record<string, unknown> {
  const type = typeForUrl(typeUrl);
  return type.toObject(type.decode(bytes), { enums: String, longs: Number, defaults: false, json: true });
}

/** `google.protobuf.Any{type_url, value}` around already-encoded bytes. */
export function encodeAny(typeUrl: string, value: Uint8Array): Uint8Array {
  return protobuf.Writer.create().uint32(10).string(typeUrl).uint32(18).bytes(value).finish();
}

/** `envoy.service.discovery.v3.Resource{version=1, resource=2, name=3}` around an encoded Any. */
export function encodeDeltaResource(name: string, version: string, any: Uint8Array): Uint8Array {
  return protobuf.Writer.create().uint32(10).string(version).uint32(18).bytes(any).uint32(26).string(name).finish();
}

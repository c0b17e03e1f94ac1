import { contentHash } from '../../lib/hash.ts';
import { encodeAny, encodeDeltaResource, encodeMessage } from '../proto.ts';
import type { BuiltResource } from '../resources/types.ts';
import type { AdsTypeUrl } from '../type-urls.ts';
import { formatValidationErrors, validateResource } from '../validate/index.ts';
import { Code, SwitchyardError } from '../../lib/errors.ts';

/** A resource serialized once; every client that subscribes gets these same bytes. */
export interface EncodedResource {
  readonly typeUrl: AdsTypeUrl;
  readonly name: string;
  /** Content hash; for an endpoint assignment it also folds in its cluster's version. */
  readonly version: string;
  /** The resource message itself. */
  readonly bytes: Uint8Array;
  /** `google.protobuf.Any` wrapping `bytes`, as it goes into `DiscoveryResponse.resources`. */
  readonly any: Uint8Array;
  /** `envoy.service.discovery.v3.Resource{name, version, resource}` for Delta responses. */
  readonly deltaResource: Uint8Array;
}

/**
 * Encodes a resource and checks the bytes against Envoy's validation rules (xds-notes §4.3), so a
 * resource Envoy would NACK is never published. Throws a SwitchyardError naming resource, field and rule.
 */
export function encodeResource(resource: BuiltResource, versionSalt = ''): EncodedResource {
  const bytes = encodeMessage(resource.typeUrl, resource.message);
  const errors = validateResource(resource.typeUrl, bytes);
  if (errors.length > 0) {
    throw new SwitchyardError(Code.InvalidArgument, formatValidationErrors(resource.name, resource.typeUrl, errors));
  }
  const version = versionSalt ? contentHash(bytes, versionSalt) : contentHash(bytes);
  const any = encodeAny(resource.typeUrl, bytes);
  return {
    typeUrl: resource.typeUrl,
    name: resource.name,
    version,
    bytes,
    any,
    deltaResource: encodeDeltaResource(resource.name, version, any),
  };
}

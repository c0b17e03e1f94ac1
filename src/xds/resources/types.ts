import type { AdsTypeUrl } from '../type-urls.ts';

/**
 * A resource as a plain object with proto field names, ready for protobufjs: enums by name,
 * wrapper types as `{ value }`, durations as `{ seconds, nanos }`, nested Any as `{ '@type', ... }`.
 */
export type ProtoObject = { readonly [field: string]: unknown };

export interface BuiltResource {
  readonly typeUrl: AdsTypeUrl;
  readonly name: string;
  readonly message: ProtoObject;
}

/** `ConfigSource` pointing back at the ADS stream the resource came on. */
export const ADS_CONFIG_SOURCE = { ads: {}, resource_api_version: 'V3' } as const;

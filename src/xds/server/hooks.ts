import { createEmitter, type Emitter } from '../../lib/events.ts';
import type { AdsTypeUrl } from '../type-urls.ts';

/** The parts of `envoy.config.core.v3.Node` Switchyard looks at. */
export interface NodeInfo {
  readonly id: string;
  readonly cluster: string;
  readonly userAgentName: string;
  readonly userAgentVersion: string;
  readonly clientFeatures: readonly string[];
  readonly locality: { readonly region?: string; readonly zone?: string; readonly sub_zone?: string };
}

interface StreamRef {
  readonly streamId: number;
  /** Undefined until the first request carried a node. */
  readonly node: NodeInfo | undefined;
}

/**
 * What the xDS server tells observers (metrics, admin views, tests). Payloads are plain data; a
 * listener must not hold on to them across events expecting them to change.
 */
export interface ServerEvents {
  streamOpened: StreamRef & { readonly peer: string; readonly protocol: 'sotw' | 'delta' };
  streamClosed: StreamRef & { readonly reason: string };
  request: StreamRef & {
    readonly typeUrl: string;
    readonly resourceNames: readonly string[];
    readonly versionInfo: string;
    readonly responseNonce: string;
    /** True when the nonce was not the last one sent: the subscription is updated but not answered. */
    readonly stale: boolean;
  };
  response: StreamRef & {
    readonly typeUrl: AdsTypeUrl;
    readonly versionInfo: string;
    readonly nonce: string;
    readonly resourceNames: readonly string[];
    readonly bytes: number;
  };
  /** A response was not sent because it would exceed the client's receive limit. */
  refused: StreamRef & { readonly typeUrl: AdsTypeUrl; readonly reason: string; readonly bytes: number };
  ack: StreamRef & { readonly typeUrl: AdsTypeUrl; readonly versionInfo: string; readonly nonce: string };
  nack: StreamRef & {
    readonly typeUrl: AdsTypeUrl;
    readonly versionInfo: string;
    readonly nonce: string;
    readonly code: number;
    readonly message: string;
  };
}

export type ServerHooks = Emitter<ServerEvents>;
export const createServerHooks = (onError?: (event: keyof ServerEvents, e: unknown) => void): ServerHooks =>
  createEmitter<ServerEvents>(onError);

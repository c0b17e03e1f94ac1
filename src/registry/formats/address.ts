import { isIP } from 'node:net';
import { err, ok, type Result } from '../../lib/result.ts';

export interface HostPort {
  /** IP literal; IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `a.b.c.d:port` or `[v6]:port`. Hosts must be IP literals: gRPC and Envoy do not resolve
 * names in endpoint assignments (xds-notes §2.5, §4.2).
 */
export function parseHostPort(text: string): Result<HostPort> {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return err(`address "${text}": expected [ipv6]:port`);
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (isIP(host) !== 6) return err(`address "${text}": "${host}" is not an IPv6 address`);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return err(`address "${text}": expected host:port`);
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    const kind = isIP(host);
    if (kind === 6) return err(`address "${text}": write IPv6 addresses in brackets, e.g. [${host}]:${portText}`);
    if (kind !== 4) return err(`address "${text}": host "${host}" is not an IP address (hostnames are not resolved)`);
  }
  const port = parsePort(portText);
  if (port === undefined) return err(`address "${text}": port "${portText}" is not a number from 1 to 65535`);
  return ok({ host, port });
}

function parsePort(text: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

export const formatHostPort = ({ host, port }: HostPort): string =>
  host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;

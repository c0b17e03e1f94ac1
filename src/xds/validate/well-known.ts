import { isIP, isIPv4, isIPv6 } from 'node:net';

/*
 * The `string.well_known` formats of validate.proto, written from the definitions its comments cite.
 * `well_known_regex` header rules follow validate.proto's `strict` comment: strict = RFC 7230, loose =
 * "only disallows \r\n\0".
 */

// RFC 7230 token, plus a leading ':' for HTTP/2 pseudo-headers.
const HEADER_NAME = /^:?[0-9A-Za-z!#$%&'*+\-.^_|~`]+$/;
// RFC 7230 field-value: no control characters except horizontal tab.
const HEADER_VALUE = /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/;
const HEADER_LOOSE = /^[^\u0000\u000A\u000D]*$/;

export function headerRegex(kind: 'HTTP_HEADER_NAME' | 'HTTP_HEADER_VALUE', strict: boolean): RegExp {
  if (!strict) return HEADER_LOOSE;
  return kind === 'HTTP_HEADER_NAME' ? HEADER_NAME : HEADER_VALUE;
}

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;

/** RFC 1034 host name (no IDNs); one trailing dot allowed. */
export function isHostname(s: string): boolean {
  const name = s.endsWith('.') ? s.slice(0, -1) : s;
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((label) => label.length <= 63 && LABEL.test(label));
}

/** RFC 5322 addr-spec, optionally inside `Display Name <…>`, with a host-name domain. */
export function isEmail(s: string): boolean {
  const angle = /<([^<>]*)>\s*$/.exec(s);
  const addr = angle ? angle[1]! : s;
  if (addr.length > 254) return false;
  const at = addr.lastIndexOf('@');
  if (at <= 0) return false;
  const local = addr.slice(0, at);
  if (local.length > 64) return false;
  const quoted = /^".*"$/.test(local);
  if (!quoted && /[\s\u0000-\u001F\u007F()<>[\]:;@\\,"]/.test(local)) return false;
  return isHostname(addr.slice(at + 1));
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
// Characters that never appear unescaped in an RFC 3986 URI, and a '%' not followed by two hex digits.
const URI_BAD = /[\s\u0000-\u001F\u007F<>"{}|\\^`]|%(?![0-9A-Fa-f]{2})/u;

export const isUriRef = (s: string): boolean => !URI_BAD.test(s);
export const isUri = (s: string): boolean => SCHEME.test(s) && isUriRef(s);
export const isIp = (s: string): boolean => isIP(s) !== 0;
export { isIPv4 as isIpv4, isIPv6 as isIpv6 };
export const isAddress = (s: string): boolean => isIp(s) || isHostname(s);
export const isUuid = (s: string): boolean => /^[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$/.test(s);

export const STRING_FORMATS: Record<string, [test: (s: string) => boolean, what: string]> = {
  email: [isEmail, 'a valid email address'],
  hostname: [isHostname, 'a valid hostname'],
  ip: [isIp, 'a valid IP address'],
  ipv4: [isIPv4, 'a valid IPv4 address'],
  ipv6: [isIPv6, 'a valid IPv6 address'],
  uri: [isUri, 'a valid absolute URI'],
  uri_ref: [isUriRef, 'a valid URI reference'],
  address: [isAddress, 'a valid hostname or IP address'],
  uuid: [isUuid, 'a valid UUID'],
};

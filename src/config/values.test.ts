import { describe, expect, test } from 'bun:test';
import { err, ok } from '../lib/result.ts';
import { formatHostPort, parseBoolean, parseEtcdEndpoints, parseHostPort, parsePrefix, parseText } from './values.ts';

const listen = (raw: string) => parseHostPort(raw, { allowPortZero: true });
const dial = (raw: string) => parseHostPort(raw, { allowPortZero: false });

describe('parseHostPort', () => {
  test('IPv4, names and bracketed IPv6', () => {
    expect(listen('127.0.0.1:18000')).toEqual(ok({ host: '127.0.0.1', port: 18000 }));
    expect(listen('localhost:1')).toEqual(ok({ host: 'localhost', port: 1 }));
    expect(listen('cp-1.example.com:65535')).toEqual(ok({ host: 'cp-1.example.com', port: 65535 }));
    expect(listen('[::1]:0')).toEqual(ok({ host: '::1', port: 0 }));
    expect(listen('[fe80::1:2]:8080')).toEqual(ok({ host: 'fe80::1:2', port: 8080 }));
  });

  test('port 0 only where allowed; out of range ports', () => {
    const expected = 'expected host:port such as 127.0.0.1:18000 or [::1]:18000, port 1-65535';
    expect(dial('127.0.0.1:0')).toEqual(err(`port out of range, ${expected}`));
    expect(dial('127.0.0.1:65536')).toEqual(err(`port out of range, ${expected}`));
  });

  test('rejects what is not host:port', () => {
    const expected = 'expected host:port such as 127.0.0.1:18000 or [::1]:18000, port 0-65535';
    for (const raw of ['', '18000', '127.0.0.1', '::1:80', '127.0.0.1:-1', '127.0.0.1:80x', 'a:b:1', 'http://a:1']) {
      expect(listen(raw)).toEqual(err(expected));
    }
    expect(listen(':18000')).toEqual(err(`host is missing, ${expected}`));
    expect(listen('256.0.0.1:1')).toEqual(err(`"256.0.0.1" is not an IPv4 address or host name, ${expected}`));
    expect(listen('bad_name:1')).toEqual(err(`"bad_name" is not an IPv4 address or host name, ${expected}`));
    expect(listen('[127.0.0.1]:1')).toEqual(err(`"127.0.0.1" is not an IPv6 address, ${expected}`));
  });

  test('formatHostPort brackets IPv6', () => {
    expect(formatHostPort({ host: '::1', port: 1 })).toBe('[::1]:1');
    expect(formatHostPort({ host: '10.0.0.1', port: 2 })).toBe('10.0.0.1:2');
  });
});

describe('parseEtcdEndpoints', () => {
  test('normalizes scheme case, trailing slash and spaces around commas', () => {
    expect(parseEtcdEndpoints('HTTP://a:1/, https://[::1]:2379 ,')).toEqual(ok(['http://a:1', 'https://[::1]:2379']));
  });

  test('rejects missing port, paths, credentials and other schemes', () => {
    expect(parseEtcdEndpoints('http://a').ok).toBe(false);
    expect(parseEtcdEndpoints('http://a:1/v3').ok).toBe(false);
    expect(parseEtcdEndpoints('http://u:p@a:1').ok).toBe(false);
    expect(parseEtcdEndpoints('unix://a:1').ok).toBe(false);
    expect(parseEtcdEndpoints('http://a:0').ok).toBe(false);
  });
});

describe('small values', () => {
  test('parsePrefix', () => {
    expect(parsePrefix('/a/b')).toEqual(ok('/a/b/'));
    expect(parsePrefix('')).toEqual(err('expected a key prefix that starts with "/", such as /services/'));
  });

  test('parseBoolean is case-insensitive', () => {
    expect(parseBoolean('TRUE')).toEqual(ok(true));
    expect(parseBoolean('Off')).toEqual(ok(false));
  });

  test('parseText rejects blank and control characters', () => {
    expect(parseText('node 1')).toEqual(ok('node 1'));
    expect(parseText('  ')).toEqual(err('expected a non-empty value'));
    expect(parseText('a\nb')).toEqual(err('expected text without control characters'));
  });
});

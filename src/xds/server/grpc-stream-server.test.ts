import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import * as grpc from '@grpc/grpc-js';
import http2 from 'node:http2';
import zlib from 'node:zlib';
import { waitFor } from '../../../test/harness/wait-for.ts';
import { createGrpcStreamServer, GrpcStatus, MESSAGE_PREFIX_BYTES, MessageReader, parseTimeout, type BidiCall, type GrpcStreamServer } from './grpc-stream-server.ts';

const ECHO = '/test.Echo/Chat';
const MAX = 64 * 1024;

/** Echoes each message; "fail" ends the call with a status whose details need percent-encoding. */
function echo(log: string[]) {
  return (call: BidiCall) => {
    log.push(`open ${call.peer}`);
    return {
      onMessage(m: Uint8Array) {
        const text = Buffer.from(m).toString();
        if (text === 'fail') call.finish(GrpcStatus.INVALID_ARGUMENT, 'bad 100% ünï\ncode');
        else call.send(Buffer.concat([Buffer.alloc(MESSAGE_PREFIX_BYTES), Buffer.from(`echo:${text}`)]));
      },
      onHalfClose() {
        log.push('half-close');
        call.finish(GrpcStatus.OK);
      },
      onClose: (reason: string) => log.push(`close ${reason}`),
    };
  };
}

const frame = (payload: Uint8Array, compressed = false) => {
  const b = Buffer.alloc(5 + payload.length);
  b[0] = compressed ? 1 : 0;
  b.writeUInt32BE(payload.length, 1);
  b.set(payload, 5);
  return b;
};

interface RawResult {
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  messages: string[];
}

/** One call from node:http2 directly, to send what grpc-js would not: split frames, compressed bytes, bad headers. */
function rawCall(address: string, headers: Record<string, string>, chunks: Buffer[], end = true): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${address}`);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': ECHO, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    const result: RawResult = { headers: {}, trailers: {}, messages: [] };
    const reader = new MessageReader(MAX);
    req.on('response', (h) => (result.headers = h));
    req.on('trailers', (t) => {
      result.trailers = t;
      req.end(); // as gRPC clients do once they have the status
    });
    req.on('data', (d: Buffer) => reader.push(d, (_c, p) => result.messages.push(p.toString())));
    req.on('close', () => {
      session.close();
      resolve(result);
    });
    req.on('error', reject);
    (async () => {
      for (const c of chunks) {
        req.write(c);
        await Bun.sleep(5);
      }
      if (end) req.end();
    })();
  });
}

describe('gRPC stream server', () => {
  const log: string[] = [];
  let server: GrpcStreamServer;
  let address: string;
  let client: grpc.Client;

  beforeAll(async () => {
    server = createGrpcStreamServer({ methods: new Map([[ECHO, echo(log)]]), maxReceiveBytes: MAX });
    address = await server.listen('127.0.0.1:0');
    client = new grpc.Client(address, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    client.close();
    await server.stop();
  });

  const open = (path = ECHO) =>
    client.makeBidiStreamRequest(path, (b: Buffer) => b, (b: Buffer) => b.toString());

  test('grpc-js client: messages both ways, half-close ends with OK', async () => {
    log.length = 0;
    const call = open();
    const got: string[] = [];
    call.on('data', (m: string) => got.push(m));
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.write(Buffer.from('a'));
    call.write(Buffer.from('b'));
    call.end();
    expect((await status).code).toBe(grpc.status.OK);
    expect(got).toEqual(['echo:a', 'echo:b']);
    expect(log[0]).toMatch(/^open 127\.0\.0\.1:\d+$/);
    expect(log.slice(1)).toEqual(['half-close', 'close finished']);
  });

  test('a status with details outside printable ASCII reaches the client intact', async () => {
    const call = open();
    call.on('data', () => {});
    const err = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    call.write(Buffer.from('fail'));
    const e = await err;
    expect(e.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(e.details).toBe('bad 100% ünï\ncode');
  });

  test('an unknown method is UNIMPLEMENTED', async () => {
    const call = open('/test.Echo/Nope');
    call.on('data', () => {});
    const e = await new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    expect(e.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(e.details).toContain('/test.Echo/Nope');
  });

  test('a client cancelling closes the call', async () => {
    log.length = 0;
    const call = open();
    call.on('data', () => call.cancel());
    call.on('error', () => {});
    call.write(Buffer.from('x'));
    await waitFor(() => log.some((l) => l.startsWith('close ')), { message: 'the server to see the cancel' });
  });

  test('messages split across DATA frames, and several in one, arrive whole', async () => {
    const big = Buffer.alloc(40_000, 'z');
    const wire = Buffer.concat([frame(Buffer.from('one')), frame(Buffer.from('two')), frame(big), frame(Buffer.from('three'))]);
    const pieces = [wire.subarray(0, 2), wire.subarray(2, 9), wire.subarray(9, 20_000), wire.subarray(20_000)];
    const r = await rawCall(address, {}, pieces);
    expect(r.trailers['grpc-status']).toBe('0');
    expect(r.messages).toEqual(['echo:one', 'echo:two', `echo:${big}`, 'echo:three']);
  });

  test('gzip and deflate requests are inflated; another encoding is UNIMPLEMENTED', async () => {
    const gz = await rawCall(address, { 'grpc-encoding': 'gzip' }, [frame(zlib.gzipSync('hello'), true), frame(Buffer.from('plain'))]);
    expect(gz.messages).toEqual(['echo:hello', 'echo:plain']);
    const df = await rawCall(address, { 'grpc-encoding': 'deflate' }, [frame(zlib.deflateSync('hi'), true)]);
    expect(df.messages).toEqual(['echo:hi']);
    const other = await rawCall(address, { 'grpc-encoding': 'snappy' }, [frame(Buffer.from('??'), true)], false);
    expect(other.trailers['grpc-status']).toBe(String(GrpcStatus.UNIMPLEMENTED));
    expect(other.trailers['grpc-message']).toContain('snappy');
  });

  test('a message over the limit is RESOURCE_EXHAUSTED, before its body arrives', async () => {
    const header = Buffer.from([0, 0, 0, 0, 0]);
    header.writeUInt32BE(MAX + 1, 1);
    const r = await rawCall(address, {}, [header], false);
    expect(r.trailers['grpc-status']).toBe(String(GrpcStatus.RESOURCE_EXHAUSTED));
    expect(r.trailers['grpc-message']).toContain(`${MAX + 1} bytes`);
  });

  test('grpc-timeout ends the call with DEADLINE_EXCEEDED', async () => {
    const started = performance.now();
    const r = await rawCall(address, { 'grpc-timeout': '100m' }, [frame(Buffer.from('x'))], false);
    expect(r.messages).toEqual(['echo:x']);
    expect(r.trailers['grpc-status']).toBe(String(GrpcStatus.DEADLINE_EXCEEDED));
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
  });

  test('a request that is not gRPC gets HTTP 415', async () => {
    const r = await rawCall(address, { 'content-type': 'application/json' }, []);
    expect(Number(r.headers[':status'])).toBe(415);
  });
});

test('stop ends open calls with UNAVAILABLE and closes the port', async () => {
  const log: string[] = [];
  const server = createGrpcStreamServer({ methods: new Map([[ECHO, echo(log)]]), maxReceiveBytes: MAX });
  const address = await server.listen('127.0.0.1:0');
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const call = client.makeBidiStreamRequest(ECHO, (b: Buffer) => b, (b: Buffer) => b.toString());
  const first = new Promise((resolve) => call.once('data', resolve));
  const error = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
  call.write(Buffer.from('x'));
  await first;
  await server.stop();
  expect((await error).code).toBe(grpc.status.UNAVAILABLE);
  expect(log.at(-1)).toBe('close finished');
  client.close();
  const refused = await new Promise<Error | undefined>((resolve) => {
    const s = http2.connect(`http://${address}`);
    s.on('error', resolve);
    s.on('connect', () => {
      s.close();
      resolve(undefined);
    });
  });
  expect(refused).toBeInstanceOf(Error);
});

test('listen refuses a bad address and a port in use, saying which', async () => {
  const server = createGrpcStreamServer({ methods: new Map(), maxReceiveBytes: MAX });
  await expect(server.listen('no-port')).rejects.toThrow('cannot listen for xDS on no-port: expected host:port');
  const taken = createGrpcStreamServer({ methods: new Map(), maxReceiveBytes: MAX });
  const address = await taken.listen('127.0.0.1:0');
  await expect(server.listen(address)).rejects.toThrow(`cannot listen for xDS on ${address}`);
  await taken.stop();
});

test('parseTimeout reads every unit and ignores malformed values', () => {
  expect(parseTimeout('2S')).toBe(2_000);
  expect(parseTimeout('1H')).toBe(3_600_000);
  expect(parseTimeout('3M')).toBe(180_000);
  expect(parseTimeout('250m')).toBe(250);
  expect(parseTimeout('5000u')).toBe(5);
  expect(parseTimeout('2000000n')).toBe(2);
  expect(parseTimeout('99999999H')).toBe(2 ** 31 - 1);
  for (const bad of [undefined, '', '10', 'S', '123456789S', '1s', ['1S']]) expect(parseTimeout(bad)).toBeUndefined();
});

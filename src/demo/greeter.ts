/**
 * Switchyard's demo service (protos/greeter.proto): a real @grpc/grpc-js server and a small client, used by the
 * CLI demo and by the tests. No codegen: the service definition is built from the .proto with protobufjs, so the
 * only dependencies are @grpc/grpc-js and protobufjs (no @grpc/proto-loader). Portable: no Bun-only APIs.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { silentLogger, type Logger } from '../lib/logger.ts';

export interface HelloRequest {
  name: string;
}
export interface HelloReply {
  message: string;
  /** Id of the instance that answered. */
  instance: string;
}

/** Request metadata key: the server waits this many ms before answering (so tests can hold calls in flight). */
export const DELAY_METADATA_KEY = 'x-delay-ms';
export const GREETER_SERVICE = 'switchyard.demo.v1.Greeter';
export const GREETER_PROTO_PATH = fileURLToPath(new URL('../../protos/greeter.proto', import.meta.url));

export interface GreeterDefinition extends grpc.ServiceDefinition {
  sayHello: grpc.MethodDefinition<HelloRequest, HelloReply>;
}

let definition: GreeterDefinition | undefined;

/** The Greeter service definition, built once from protos/greeter.proto (cached: parsing is the only cost). */
export function greeterDefinition(): GreeterDefinition {
  if (definition) return definition;
  const root = protobuf.loadSync(GREETER_PROTO_PATH);
  const method = root.lookupService(GREETER_SERVICE).methods['SayHello'];
  if (!method) throw new Error(`${GREETER_PROTO_PATH}: ${GREETER_SERVICE}/SayHello missing`);
  const req = root.lookupType('switchyard.demo.v1.HelloRequest');
  const res = root.lookupType('switchyard.demo.v1.HelloReply');
  const codec = <T extends object>(type: protobuf.Type) => ({
    serialize: (value: T) => Buffer.from(type.encode(type.fromObject(value)).finish()),
    deserialize: (bytes: Buffer) => type.toObject(type.decode(bytes), { defaults: true }) as T,
  });
  const reqCodec = codec<HelloRequest>(req);
  const resCodec = codec<HelloReply>(res);
  definition = {
    sayHello: {
      path: `/${GREETER_SERVICE}/${method.name}`,
      originalName: method.name,
      requestStream: false,
      responseStream: false,
      requestSerialize: reqCodec.serialize,
      requestDeserialize: reqCodec.deserialize,
      responseSerialize: resCodec.serialize,
      responseDeserialize: resCodec.deserialize,
    },
  };
  return definition;
}

export interface GreeterOptions {
  id: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  logger?: Logger;
}

export interface Greeter extends AsyncDisposable {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** `host:port` (IPv6 hosts bracketed), ready to register or dial. */
  readonly address: string;
  /** Calls received and not yet answered or cancelled. */
  inFlight(): number;
  /** Calls answered so far. */
  served(): number;
  /**
   * Graceful: refuse new calls, let in-flight calls finish, close connections (GOAWAY). After `graceMs` the rest
   * are cancelled. Idempotent.
   */
  stop(opts?: { graceMs?: number }): Promise<void>;
  /** Abrupt: cancel everything now, like a crashed instance. */
  kill(): void;
}

const formatAddress = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** Start a Greeter server; resolves once it listens. */
export async function startGreeter({ id, host = '127.0.0.1', port = 0, logger = silentLogger }: GreeterOptions): Promise<Greeter> {
  const server = new grpc.Server();
  let inFlight = 0;
  let served = 0;

  const sayHello: grpc.handleUnaryCall<HelloRequest, HelloReply> = (call, callback) => {
    inFlight++;
    let done = false;
    const finish = (answer: boolean) => {
      if (done) return;
      done = true;
      inFlight--;
      if (!answer) return;
      served++;
      callback(null, { message: `Hello, ${call.request.name}`, instance: id });
    };
    const delayMs = Number(call.metadata.get(DELAY_METADATA_KEY)[0] ?? 0);
    if (!(delayMs > 0)) return finish(true);
    const timer = setTimeout(() => finish(true), delayMs);
    call.on('cancelled', () => {
      clearTimeout(timer);
      finish(false);
    });
  };
  server.addService(greeterDefinition(), { sayHello });

  const boundPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync(formatAddress(host, port), grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const address = formatAddress(host, boundPort);
  logger.info('greeter listening', { id, address });

  let stopping: Promise<void> | undefined;
  const stop = ({ graceMs = 10_000 }: { graceMs?: number } = {}) =>
    (stopping ??= new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        logger.warn('greeter grace period over, cancelling calls', { id, inFlight });
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(force);
        logger.info('greeter stopped', { id, served });
        resolve();
      });
    }));

  return {
    id,
    host,
    port: boundPort,
    address,
    inFlight: () => inFlight,
    served: () => served,
    stop,
    kill: () => {
      server.forceShutdown();
      stopping ??= Promise.resolve();
    },
    [Symbol.asyncDispose]: () => stop(),
  };
}

export interface SayHelloOptions {
  /** Per-call deadline; default 5000. */
  deadlineMs?: number;
  /** Queue the call until the channel is ready instead of failing fast on TRANSIENT_FAILURE. */
  waitForReady?: boolean;
  /** Ask the server to hold the call this long (sent as `x-delay-ms`). */
  delayMs?: number;
}

export interface GreeterClient extends Disposable {
  /** Rejects with the grpc-js `ServiceError` (`code`, `details`) on failure. */
  sayHello(name: string, opts?: SayHelloOptions): Promise<HelloReply>;
  /** The underlying channel (connectivity state, `watchConnectivityState`). */
  readonly channel: ReturnType<grpc.Client['getChannel']>;
  close(): void;
}

export interface GreeterClientOptions {
  credentials?: grpc.ChannelCredentials;
  channelOptions?: grpc.ChannelOptions;
}

type UnaryMethod = (
  req: HelloRequest,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res?: HelloReply) => void,
) => grpc.ClientUnaryCall;

/**
 * A Greeter client for any grpc-js target: `127.0.0.1:50051`, `dns:///…`, or `xds:///greeter` once
 * `@grpc/grpc-js-xds` is registered.
 */
export function greeterClient(target: string, options: GreeterClientOptions = {}): GreeterClient {
  const Client = grpc.makeGenericClientConstructor(greeterDefinition(), 'Greeter');
  const client = new Client(target, options.credentials ?? grpc.credentials.createInsecure(), options.channelOptions);
  const unary = (client['sayHello'] as UnaryMethod).bind(client);
  const close = () => client.close();
  return {
    sayHello: (name, { deadlineMs = 5000, waitForReady = false, delayMs } = {}) =>
      new Promise((resolve, reject) => {
        const metadata = new grpc.Metadata({ waitForReady });
        if (delayMs !== undefined) metadata.set(DELAY_METADATA_KEY, String(delayMs));
        unary({ name }, metadata, { deadline: Date.now() + deadlineMs }, (err, res) =>
          err ? reject(err) : resolve(res as HelloReply),
        );
      }),
    channel: client.getChannel(),
    close,
    [Symbol.dispose]: close,
  };
}

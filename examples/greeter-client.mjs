// A plain grpc-js client that knows nothing about Switchyard: it dials xds:///greeter and lets grpc-js-xds
// resolve and balance through the control plane. Runs under Node (or Bun):
//   GRPC_XDS_BOOTSTRAP_CONFIG="$(npx switchyard bootstrap)" node examples/greeter-client.mjs [calls] [target]
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import grpcXds from '@grpc/grpc-js-xds';
import protobuf from 'protobufjs';

const calls = Number(process.argv[2] ?? 30);
const target = process.argv[3] ?? 'xds:///greeter';
if (!Number.isInteger(calls) || calls < 1) {
  console.error(`usage: greeter-client.mjs [calls >= 1] [target]; got calls=${process.argv[2]}`);
  process.exit(2);
}
if (!process.env.GRPC_XDS_BOOTSTRAP && !process.env.GRPC_XDS_BOOTSTRAP_CONFIG) {
  console.error('greeter-client: set GRPC_XDS_BOOTSTRAP_CONFIG="$(npx switchyard bootstrap)" so grpc-js can find the control plane');
  process.exit(2);
}

// Adds the xds: scheme to grpc-js.
grpcXds.register();

const root = protobuf.loadSync(fileURLToPath(new URL('../protos/greeter.proto', import.meta.url)));
const codec = (name) => {
  const type = root.lookupType(name);
  return {
    serialize: (value) => Buffer.from(type.encode(type.fromObject(value)).finish()),
    deserialize: (bytes) => type.toObject(type.decode(bytes), { defaults: true }),
  };
};
const request = codec('switchyard.demo.v1.HelloRequest');
const reply = codec('switchyard.demo.v1.HelloReply');
const Greeter = grpc.makeGenericClientConstructor(
  {
    sayHello: {
      path: '/switchyard.demo.v1.Greeter/SayHello',
      requestStream: false,
      responseStream: false,
      requestSerialize: request.serialize,
      requestDeserialize: request.deserialize,
      responseSerialize: reply.serialize,
      responseDeserialize: reply.deserialize,
    },
  },
  'Greeter',
);

const client = new Greeter(target, grpc.credentials.createInsecure());
const sayHello = (name) =>
  new Promise((resolve, reject) => {
    // Wait for ready: the first call waits while the channel fetches its xDS config.
    const metadata = new grpc.Metadata({ waitForReady: true });
    client.sayHello({ name }, metadata, { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(res)));
  });

const perInstance = new Map();
let failed = 0;
for (let i = 0; i < calls; i++) {
  try {
    const { instance } = await sayHello(`call ${i + 1}`);
    perInstance.set(instance, (perInstance.get(instance) ?? 0) + 1);
  } catch (err) {
    failed++;
    console.error(`call ${i + 1} failed: ${err.code === undefined ? '' : grpc.status[err.code] + ': '}${err.details ?? err.message}`);
  }
}
client.close();

console.log(`${calls} calls to ${target}:`);
for (const [instance, n] of [...perInstance].sort(([a], [b]) => a.localeCompare(b))) {
  console.log(`  ${instance.padEnd(12)} ${String(n).padStart(5)}  ${((100 * n) / calls).toFixed(0).padStart(3)}%`);
}
if (failed > 0) console.log(`  failed       ${String(failed).padStart(5)}`);
process.exit(failed > 0 ? 1 : 0);

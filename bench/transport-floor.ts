/**
 * Transport floor: what fanning a small message out to N connections and reading one reply from each costs
 * on this machine before Switchyard does anything, to read S1 and S5 against.
 *
 * This process is the server (core 0); a client process (core 1) opens N connections and answers every
 * message with 100 bytes. Each round the server writes one 263-byte gRPC message (the size of S1's one-endpoint
 * Delta response) to every connection and waits until all N replies are back; rounds are 5 ms apart.
 *   tcp    Bun's native sockets both ways, no HTTP/2: the kernel and the runtime's socket layer alone;
 *   http2  node:http2 server streams (what Switchyard serves ADS on), the load generator's bare HTTP/2 client.
 * Reported per transport: the server's write loop over N connections and the time until every reply is
 * back (p50/p99 over the rounds), and the server's CPU per message and reply.
 *
 * Usage: bun bench/transport-floor.ts [--quick] [--clients 1000] [--rounds 200] [--transports tcp,http2] [--no-pin]
 * @module
 */
import http2 from 'node:http2';
import { parseArgs } from 'node:util';
import type { Socket } from 'bun';
import { GrpcH2Stream } from './lib/h2.ts';
import { pinnedCommand, pinSelf } from './lib/cpu-pin.ts';
import { cpuLoopMs, machineInfo, writeResults } from './lib/machine.ts';
import { CONTROL_PLANE_CORE, LOAD_CORE, deadline, failer, intFlag, round } from './lib/stack.ts';
import { formatTable, summarize, type Summary } from './lib/stats.ts';

const SCENARIO = 'transport-floor';
const MESSAGE = Buffer.alloc(263, 7);
MESSAGE[0] = 0;
MESSAGE.writeUInt32BE(MESSAGE.length - 5, 1);
const REPLY = Buffer.alloc(100, 1);
const PATH = '/switchyard.bench.Floor/Echo';
type Transport = 'tcp' | 'http2';

if (process.argv[2] === '--client') runClient(process.argv[3] as Transport, Number(process.argv[4]), process.argv[5]!);
else await runServer();

/** Client side: N connections, each answering every message (tcp: every read) with REPLY. */
function runClient(transport: Transport, n: number, address: string): void {
  const [hostname, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  for (let i = 0; i < n; i++) {
    if (transport === 'http2') {
      const s: GrpcH2Stream = new GrpcH2Stream(address, PATH, { onMessage: () => s.send(REPLY), onEnd: (why) => die(why) });
      s.send(REPLY);
    } else {
      Bun.connect({
        hostname,
        port,
        socket: {
          open: (sock) => (sock.setNoDelay(true), void sock.write(REPLY)),
          data: (sock) => void sock.write(REPLY),
          close: () => die('connection closed'),
          connectError: (_s, e) => die(e.message),
        },
      }).catch((e: Error) => die(e.message));
    }
  }
  process.stdin.on('end', () => process.exit(0)).resume();
  function die(why: string): never {
    process.stderr.write(`${SCENARIO} client: ${why}\n`);
    process.exit(1);
  }
}

/** One server: `writeAll` sends MESSAGE on every connection; `onReply` is called once per reply received. */
interface Server {
  readonly address: string;
  readonly connections: () => number;
  writeAll(): void;
  close(): void;
}

function tcpServer(onReply: () => void): Server {
  const sockets: Socket<undefined>[] = [];
  const partial = new Map<Socket<undefined>, number>();
  const listener = Bun.listen({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open: (sock) => (sock.setNoDelay(true), void sockets.push(sock)),
      data: (sock, d) => {
        // Replies are fixed-size; count whole ones however the reads split them.
        const bytes = (partial.get(sock) ?? 0) + d.length;
        for (let i = 0; i < Math.floor(bytes / REPLY.length); i++) onReply();
        partial.set(sock, bytes % REPLY.length);
      },
    },
  });
  return {
    address: `127.0.0.1:${listener.port}`,
    connections: () => sockets.length,
    writeAll: () => {
      for (const s of sockets) s.write(MESSAGE);
    },
    close: () => listener.stop(true),
  };
}

async function http2Server(onReply: () => void): Promise<Server> {
  const streams: http2.ServerHttp2Stream[] = [];
  const server = http2.createServer();
  server.on('stream', (stream: http2.ServerHttp2Stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    streams.push(stream);
    let partial = 0;
    stream.on('data', (d: Buffer) => {
      const bytes = partial + d.length;
      for (let i = 0; i < Math.floor(bytes / (REPLY.length + 5)); i++) onReply();
      partial = bytes % (REPLY.length + 5);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    connections: () => streams.length,
    writeAll: () => {
      for (const s of streams) s.write(MESSAGE);
    },
    close: () => server.close(),
  };
}

interface Row {
  transport: Transport;
  clients: number;
  rounds: number;
  completed: number;
  writeLoop: Summary;
  allReplies: Summary;
  serverCpuUsPerMessage: number;
  serverSystemShare: number;
}

async function measure(transport: Transport, n: number, rounds: number, pin: boolean): Promise<Row> {
  let replies = 0;
  let waiting: (() => void) | undefined;
  let target = 0;
  const onReply = () => {
    if (++replies === target) waiting?.();
  };
  const repliesReach = (count: number, ms: number) =>
    new Promise<boolean>((resolve) => {
      if (replies >= count) return resolve(true);
      target = count;
      const timer = setTimeout(() => resolve(false), ms);
      waiting = () => (clearTimeout(timer), resolve(true));
    });
  const server = transport === 'tcp' ? tcpServer(onReply) : await http2Server(onReply);
  const argv = [process.execPath, import.meta.path, '--client', transport, String(n), server.address];
  const client = Bun.spawn(pin ? pinnedCommand(LOAD_CORE, argv) : argv, { stdin: 'pipe', stdout: 'inherit', stderr: 'inherit' });
  try {
    // Every connection says hello once before the rounds start.
    if (!(await repliesReach(n, 30_000))) throw new Error(`${transport}: ${replies} of ${n} clients connected within 30 s`);
    const loops: number[] = [];
    const latencies: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let r = 0; r < rounds; r++) {
      const base = replies;
      const t0 = performance.now();
      server.writeAll();
      loops.push(performance.now() - t0);
      if (!(await repliesReach(base + n, 10_000))) break;
      latencies.push(performance.now() - t0);
      await Bun.sleep(5);
    }
    const cpu = process.cpuUsage(cpu0);
    const messages = latencies.length * n;
    return {
      transport,
      clients: n,
      rounds,
      completed: latencies.length,
      writeLoop: summarize(loops),
      allReplies: summarize(latencies),
      serverCpuUsPerMessage: round(messages ? (cpu.user + cpu.system) / messages : NaN, 2),
      serverSystemShare: round(cpu.system / Math.max(1, cpu.user + cpu.system), 2),
    };
  } finally {
    client.stdin.end();
    client.kill();
    await client.exited;
    server.close();
  }
}

async function runServer(): Promise<void> {
  const fail = failer(SCENARIO);
  const { values: flags } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      clients: { type: 'string', default: '1000' },
      rounds: { type: 'string', default: '200' },
      transports: { type: 'string', default: 'tcp,http2' },
      'no-pin': { type: 'boolean', default: false },
    },
  });
  const params = {
    clients: flags.quick ? 20 : intFlag(fail, 'clients', flags.clients),
    rounds: flags.quick ? 10 : intFlag(fail, 'rounds', flags.rounds),
    transports: flags.transports!.split(',') as Transport[],
    messageBytes: MESSAGE.length,
    replyBytes: REPLY.length,
    gapMs: 5,
    pinned: false,
  };
  for (const t of params.transports) if (t !== 'tcp' && t !== 'http2') fail(`--transports: unknown transport ${t}`);
  const cancel = deadline(60_000 + params.transports.length * params.rounds * 200, fail);
  params.pinned = !flags['no-pin'] && pinSelf(CONTROL_PLANE_CORE);
  const machine = { ...machineInfo(), cpuLoopMs: cpuLoopMs() };
  const rows: Row[] = [];
  for (const t of params.transports) rows.push(await measure(t, params.clients, params.rounds, params.pinned).catch((e: Error) => fail(e.message)));
  cancel();
  console.log(`\nTransport floor: ${params.clients} connections, a ${MESSAGE.length} B message to each and a ${REPLY.length} B reply back, ms`);
  console.log(
    formatTable(
      ['transport', 'N', 'write loop p50', 'write loop p99', 'all replies p50', 'all replies p99', 'server cpu us/msg', 'of it in kernel'],
      rows.map((r) => [r.transport, String(r.clients), r.writeLoop.p50, r.writeLoop.p99, r.allReplies.p50, r.allReplies.p99, r.serverCpuUsPerMessage, `${Math.round(r.serverSystemShare * 100)}%`]),
    ),
  );
  const converged = rows.every((r) => r.completed === r.rounds);
  console.log(`pinned: ${params.pinned}; machine cpuLoopMs ${machine.cpuLoopMs}`);
  console.log(`wrote ${writeResults(SCENARIO, { machine, parameters: params, results: { rows }, checks: { converged } })}`);
  if (!converged) fail('a round did not get every reply back within 10 s');
  process.exit(0);
}

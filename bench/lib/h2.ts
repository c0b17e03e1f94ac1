/**
 * A bare HTTP/2 client for one gRPC bidi stream per TCP connection, for the load generator: node:http2
 * under Bun costs ~50 µs per received message, more than the control plane spends per client, so at
 * 1,000 clients the generator would be what is measured. This speaks just enough HTTP/2 (RFC 9113):
 * the preface and SETTINGS, one HEADERS (HPACK literals, no Huffman, no dynamic table), DATA both ways
 * with flow control, PING and SETTINGS acks. Response headers and trailers are not decoded: a HEADERS
 * frame with END_STREAM, RST_STREAM or GOAWAY ends the stream. Stream id is always 1.
 * @module
 */
import type { Socket } from 'bun';
import { MessageReader } from '../../src/xds/server/grpc-stream-server.ts';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const enum Frame {
  DATA = 0,
  HEADERS = 1,
  RST_STREAM = 3,
  SETTINGS = 4,
  PING = 6,
  GOAWAY = 7,
  WINDOW_UPDATE = 8,
}
const END_STREAM = 0x1;
const ACK = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
/** Our receive window, per stream and per connection: large, topped up once half is used. */
const RECV_WINDOW = 16 * 1024 * 1024;
const MAX_FRAME = 16_384;
/** Largest response read: the server splits responses at 4 MiB, so this only catches a broken stream. */
const MAX_MESSAGE = 64 * 1024 * 1024;

function frame(type: number, flags: number, stream: number, payload: Uint8Array = new Uint8Array()): Buffer {
  const b = Buffer.allocUnsafe(9 + payload.length);
  b.writeUIntBE(payload.length, 0, 3);
  b[3] = type;
  b[4] = flags;
  b.writeUInt32BE(stream, 5);
  b.set(payload, 9);
  return b;
}

function hpackLiteral(name: string, value: string): Buffer {
  // Literal Header Field without Indexing, new name (RFC 7541 §6.2.2), lengths < 127.
  const n = Buffer.from(name);
  const v = Buffer.from(value);
  if (n.length > 126 || v.length > 126) throw new Error('header too long for this client');
  return Buffer.concat([Buffer.from([0x00, n.length]), n, Buffer.from([v.length]), v]);
}

export interface GrpcStreamHandlers {
  /** One gRPC message (without the 5-byte prefix). */
  onMessage(msg: Buffer): void;
  /** The stream or connection ended or failed (not called after close()). */
  onEnd(why: string): void;
}

export class GrpcH2Stream {
  /** Bun's native socket (node:net costs ~20 µs more per write); undefined until connected. */
  private sock: Socket<undefined> | undefined;
  /** Bytes the socket did not take yet (before connect, or under backpressure). */
  private out: Buffer[] = [];
  private inbuf: Buffer | undefined;
  private readonly messages = new MessageReader(MAX_MESSAGE);
  private sendWindowConn = 65_535;
  private sendWindowStream = 65_535;
  private peerInitialWindow = 65_535;
  private queued: Buffer[] = [];
  private recvUnacked = 0;
  private closed = false;

  constructor(address: string, path: string, private readonly h: GrpcStreamHandlers) {
    const colon = address.lastIndexOf(':');
    Bun.connect({
      hostname: address.slice(0, colon),
      port: Number(address.slice(colon + 1)),
      socket: {
        open: (sock) => {
          if (this.closed) return void sock.end();
          this.sock = sock;
          sock.setNoDelay(true);
          this.drain();
        },
        data: (_sock, d) => this.onData(d),
        drain: () => this.drain(),
        close: () => this.end('connection closed'),
        error: (_sock, e) => this.end(`connection: ${e.message}`),
        connectError: (_sock, e) => this.end(`connect: ${e.message}`),
      },
    }).catch((e: Error) => this.end(`connect: ${e.message}`));
    const settings = Buffer.alloc(12);
    settings.writeUInt16BE(0x2, 0); // ENABLE_PUSH
    settings.writeUInt32BE(0, 2);
    settings.writeUInt16BE(0x4, 6); // INITIAL_WINDOW_SIZE
    settings.writeUInt32BE(RECV_WINDOW, 8);
    const connWindow = Buffer.alloc(4);
    connWindow.writeUInt32BE(RECV_WINDOW - 65_535, 0);
    const headers = Buffer.concat([
      Buffer.from([0x83, 0x86]), // :method POST, :scheme http (static table 3 and 6)
      hpackLiteral(':path', path),
      hpackLiteral(':authority', address),
      hpackLiteral('content-type', 'application/grpc'),
      hpackLiteral('te', 'trailers'),
    ]);
    this.write(Buffer.concat([PREFACE, frame(Frame.SETTINGS, 0, 0, settings), frame(Frame.WINDOW_UPDATE, 0, 0, connWindow), frame(Frame.HEADERS, END_HEADERS, 1, headers)]));
  }

  private write(b: Buffer): void {
    if (!this.sock || this.out.length > 0) {
      this.out.push(b);
      return;
    }
    const n = this.sock.write(b);
    if (n < b.length) this.out.push(b.subarray(Math.max(0, n)));
  }

  private drain(): void {
    if (!this.sock) return;
    while (this.out.length > 0) {
      const b = this.out[0]!;
      const n = this.sock.write(b);
      if (n < b.length) {
        this.out[0] = b.subarray(Math.max(0, n));
        return;
      }
      this.out.shift();
    }
  }

  /** Sends one gRPC message (framed here), waiting for the peer's flow-control window when needed. */
  send(msg: Uint8Array): void {
    if (this.closed) return;
    const data = Buffer.allocUnsafe(5 + msg.length);
    data[0] = 0;
    data.writeUInt32BE(msg.length, 1);
    data.set(msg, 5);
    this.queued.push(data);
    this.flush();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock?.end();
  }

  private flush(): void {
    const out: Buffer[] = [];
    while (this.queued.length > 0) {
      const head = this.queued[0]!;
      const n = Math.min(head.length, MAX_FRAME, this.sendWindowConn, this.sendWindowStream);
      if (n <= 0) break;
      out.push(frame(Frame.DATA, 0, 1, head.subarray(0, n)));
      this.sendWindowConn -= n;
      this.sendWindowStream -= n;
      if (n === head.length) this.queued.shift();
      else this.queued[0] = head.subarray(n);
    }
    if (out.length === 1) this.write(out[0]!);
    else if (out.length > 1) this.write(Buffer.concat(out));
  }

  private end(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.sock?.end();
    this.h.onEnd(why);
  }

  private onData(chunk: Buffer): void {
    let buf = this.inbuf ? Buffer.concat([this.inbuf, chunk]) : chunk;
    this.inbuf = undefined;
    let off = 0;
    while (buf.length - off >= 9) {
      const len = buf.readUIntBE(off, 3);
      if (buf.length - off - 9 < len) break;
      const type = buf[off + 3]!;
      const flags = buf[off + 4]!;
      const stream = buf.readUInt32BE(off + 5) & 0x7fffffff;
      const payload = buf.subarray(off + 9, off + 9 + len);
      off += 9 + len;
      this.onFrame(type, flags, stream, payload);
      if (this.closed) return;
    }
    if (off < buf.length) this.inbuf = Buffer.from(buf.subarray(off));
  }

  private onFrame(type: number, flags: number, stream: number, payload: Buffer): void {
    switch (type) {
      case Frame.DATA: {
        let data = payload;
        if (flags & PADDED) data = payload.subarray(1, payload.length - payload[0]!);
        this.recvUnacked += payload.length;
        if (this.recvUnacked >= RECV_WINDOW / 2) {
          const inc = Buffer.alloc(4);
          inc.writeUInt32BE(this.recvUnacked, 0);
          this.write(Buffer.concat([frame(Frame.WINDOW_UPDATE, 0, 0, inc), frame(Frame.WINDOW_UPDATE, 0, 1, inc)]));
          this.recvUnacked = 0;
        }
        this.onGrpcData(data);
        if (flags & END_STREAM) this.end('stream ended by the server');
        return;
      }
      case Frame.HEADERS:
        if (flags & END_STREAM) this.end('stream ended by the server (trailers)');
        return;
      case Frame.RST_STREAM:
        return this.end(`stream reset (code ${payload.readUInt32BE(0)})`);
      case Frame.GOAWAY:
        return this.end(`GOAWAY (code ${payload.readUInt32BE(4)})`);
      case Frame.SETTINGS:
        if (flags & ACK) return;
        for (let i = 0; i + 6 <= payload.length; i += 6) {
          if (payload.readUInt16BE(i) === 0x4) {
            const v = payload.readUInt32BE(i + 2);
            this.sendWindowStream += v - this.peerInitialWindow;
            this.peerInitialWindow = v;
          }
        }
        this.write(frame(Frame.SETTINGS, ACK, 0));
        return this.flush();
      case Frame.PING:
        if (!(flags & ACK)) this.write(frame(Frame.PING, ACK, 0, payload));
        return;
      case Frame.WINDOW_UPDATE: {
        const inc = payload.readUInt32BE(0) & 0x7fffffff;
        if (stream === 0) this.sendWindowConn += inc;
        else this.sendWindowStream += inc;
        return this.flush();
      }
      default:
        return; // PRIORITY, CONTINUATION (of headers we ignore), unknown
    }
  }

  private onGrpcData(data: Buffer): void {
    const tooLarge = this.messages.push(data, (_compressed, message) => {
      if (!this.closed) this.h.onMessage(message);
    });
    if (tooLarge) this.end(tooLarge);
  }
}

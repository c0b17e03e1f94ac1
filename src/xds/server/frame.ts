/**
 * Builds a message of length-delimited fields (numbers 1-15) into one buffer sized up front. Responses
 * are framed per client around resources encoded once, so this runs once per response: no protobufjs
 * Writer ops, one allocation, ASCII strings (nonces, versions) written in place without a Buffer of their own.
 */
export class Frame {
  private size = 0;
  private readonly fields: number[] = [];
  private readonly payloads: (Uint8Array | string)[] = [];

  bytes(field: number, payload: Uint8Array): this {
    return this.add(field, payload, payload.length);
  }

  string(field: number, value: string): this {
    for (let i = 0; i < value.length; i++) {
      if (value.charCodeAt(i) >= 0x80) return this.bytes(field, Buffer.from(value, 'utf8'));
    }
    return this.add(field, value, value.length);
  }

  /** The message, after `headroom` bytes left for the caller (a transport's own prefix). */
  finish(headroom = 0): Buffer {
    const out = Buffer.allocUnsafe(headroom + this.size);
    let pos = headroom;
    for (let i = 0; i < this.fields.length; i++) {
      const payload = this.payloads[i]!;
      out[pos++] = (this.fields[i]! << 3) | 2;
      let n = payload.length;
      while (n >= 0x80) {
        out[pos++] = (n & 0x7f) | 0x80;
        n >>>= 7;
      }
      out[pos++] = n;
      if (typeof payload === 'string') {
        for (let j = 0; j < payload.length; j++) out[pos++] = payload.charCodeAt(j);
      } else {
        out.set(payload, pos);
        pos += payload.length;
      }
    }
    return out;
  }

  private add(field: number, payload: Uint8Array | string, length: number): this {
    this.fields.push(field);
    this.payloads.push(payload);
    this.size += 1 + varintSize(length) + length;
    return this;
  }
}

const cache = new Map<string, Uint8Array>();

/** UTF-8 bytes of a string kept for reuse: the few strings every response repeats (type URLs, ids). */
export function keptUtf8(value: string): Uint8Array {
  let b = cache.get(value);
  if (!b) {
    if (cache.size >= 1_000) cache.clear();
    cache.set(value, (b = Buffer.from(value, 'utf8')));
  }
  return b;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n >>>= 7;
    size++;
  }
  return size;
}

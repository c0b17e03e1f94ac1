/**
 * Builds a message of length-delimited fields (numbers 1-15) into one buffer sized up front. Responses
 * are framed per client around resources encoded once, so this runs once per response: no protobufjs
 * Writer ops, one allocation.
 */
export class Frame {
  private size = 0;
  private readonly fields: number[] = [];
  private readonly payloads: Uint8Array[] = [];

  bytes(field: number, payload: Uint8Array): this {
    this.fields.push(field);
    this.payloads.push(payload);
    this.size += 1 + varintSize(payload.length) + payload.length;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8(value));
  }

  finish(): Uint8Array {
    const out = Buffer.allocUnsafe(this.size);
    let pos = 0;
    for (let i = 0; i < this.fields.length; i++) {
      const payload = this.payloads[i]!;
      out[pos++] = (this.fields[i]! << 3) | 2;
      let n = payload.length;
      while (n >= 0x80) {
        out[pos++] = (n & 0x7f) | 0x80;
        n >>>= 7;
      }
      out[pos++] = n;
      out.set(payload, pos);
      pos += payload.length;
    }
    return out;
  }
}

const cache = new Map<string, Uint8Array>();

/** UTF-8 bytes of a string; the few strings every response repeats (type URLs, ids) are kept. */
export function utf8(value: string, keep = false): Uint8Array {
  if (!keep) return Buffer.from(value, 'utf8');
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

/**
 * A reader of protobuf wire format (varints, length-delimited fields, skipping unknown fields) for the
 * few messages decoded by hand on hot paths, where protobufjs would build objects nobody reads.
 * Truncated or malformed input throws, naming the message being read.
 * @module
 */
export class WireReader {
  pos = 0;
  readonly end: number;

  /** `what` names the message in errors. */
  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {
    this.end = buf.length;
  }

  /** A varint that fits in 32 bits (tags, lengths, booleans, int32 codes). */
  varint(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
    }
    throw this.error('varint too long');
  }

  /** Reads a length and returns where that many bytes from here end. */
  limit(): number {
    const length = this.varint();
    const end = this.pos + length;
    if (end > this.end) throw this.error('truncated');
    return end;
  }

  /** A non-negative int64 known to stay below 2^53 (revisions). */
  uint53(): number {
    return Number(this.int64String());
  }

  /** An int64 as a decimal string, exact over the whole range (lease IDs use all 63 bits). */
  int64String(): string {
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      const b = this.byte();
      if (shift < 28) lo += (b & 0x7f) * 2 ** shift;
      else if (shift === 28) {
        lo += (b & 0x0f) * 2 ** 28;
        hi += (b & 0x7f) >> 4;
      } else hi += (b & 0x7f) * 2 ** (shift - 32);
      if (b < 0x80) {
        if (hi < 2 ** 21) return String(hi * 2 ** 32 + lo);
        return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
      }
    }
    throw this.error('varint too long');
  }

  /** Passes over a length-delimited field and returns where its bytes start; they end at `pos`. */
  span(): number {
    const end = this.limit();
    const start = this.pos;
    this.pos = end;
    return start;
  }

  /** True when the bytes from `start` to `pos` equal `bytes`, compared in place. */
  spanEquals(start: number, bytes: Uint8Array): boolean {
    return this.pos - start === bytes.length && this.buf.compare(bytes, 0, bytes.length, start, this.pos) === 0;
  }

  spanText(start: number): string {
    return this.buf.toString('utf8', start, this.pos);
  }

  bytes(): Buffer {
    const start = this.span();
    return this.buf.subarray(start, this.pos);
  }

  string(): string {
    return this.spanText(this.span());
  }

  skip(tag: number): void {
    switch (tag & 7) {
      case 0:
        this.int64String();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.pos = this.limit();
        return;
      case 5:
        this.advance(4);
        return;
      default:
        throw this.error(`unexpected wire type ${tag & 7}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw this.error('truncated');
    this.pos += n;
  }

  private byte(): number {
    if (this.pos >= this.end) throw this.error('truncated');
    return this.buf[this.pos++]!;
  }

  private error(why: string): Error {
    return new Error(`${this.what}: ${why}`);
  }
}

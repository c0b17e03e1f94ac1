import type { EncodedResource } from '../snapshot/encoded.ts';

/** A framed response and the nonce inside it. */
export interface Framed {
  readonly bytes: Uint8Array;
  readonly nonce: string;
}

/** Responses listing more resources than this are framed per stream: their key would cost more than it saves. */
const MAX_KEYED_ITEMS = 16;

/**
 * Responses of the current snapshot, by content. A change fans out to every stream subscribed to it, and
 * nearly all of them get the very same response; it is framed once and the same bytes go to each, so a
 * push costs a stream one write. The nonce is part of the bytes, so it is shared too: it names the content
 * within the snapshot, and a stream that gets the same content twice may see the same nonce twice,
 * which is harmless (its ACK is of the same thing). Shared nonces are `c<n>`; a session's own are plain
 * numbers, so the two never collide.
 */
export class SharedResponses {
  private owner: WeakRef<object> | undefined;
  private readonly entries = new Map<string, Framed>();
  private counter = 0;

  /** The response keyed `key` for `snapshot`, framed by `frame` the first time it is asked for. */
  get(snapshot: object, key: string, frame: (nonce: string) => Uint8Array): Framed {
    if (this.owner?.deref() !== snapshot) {
      this.owner = new WeakRef(snapshot);
      this.entries.clear();
    }
    let framed = this.entries.get(key);
    if (!framed) {
      const nonce = `c${++this.counter}`;
      framed = { bytes: frame(nonce), nonce };
      this.entries.set(key, framed);
    }
    return framed;
  }
}

/** What makes two responses the same bytes: type, version, and each resource's name and content version. */
export function responseKey(typeUrl: string, version: string, resources: readonly EncodedResource[], removed: readonly string[] = []): string | undefined {
  if (resources.length + removed.length > MAX_KEYED_ITEMS) return undefined;
  let key = `${typeUrl}\n${version}`;
  for (const r of resources) key += `\n${r.name}\t${r.version}`;
  for (const name of removed) key += `\n-${name}`;
  return key;
}

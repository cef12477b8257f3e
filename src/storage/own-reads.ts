/**
 * A store's reads for keyward's own pipeline, apart from the `sync` reads it offers everyone.
 * The memory store's public reads hand out frozen snapshots (a caller cannot change the store
 * through them), remade after every write — and with a clock that moves, every use is a write.
 * Its own reads hand keyward's pipeline, which never changes what it reads nor keeps it, one
 * copy per token brought up to date in place, in one decision input object filled in anew by
 * every read (the pipeline copies the input before it waits or emits an event, since a call
 * made from an event sink reads again). Kept in a module-private `WeakMap`, keyed by the
 * public `sync` object: nothing a host can reach, and a store wrapped or proxied (whose `sync`
 * keyward does not use) gets none.
 * @module
 */
import type { SyncReads } from "./types.js";

/** keyward's own reads: the synchronous reads, and where the store keeps its digests in a `DigestIndex`, a lookup by the digest's words. */
export interface OwnReads extends SyncReads {
  /** The stored digest whose words are `words` (as `digestWords` makes them), or `null`: the key `loadDecision` then takes. */
  findDigest?(words: Int32Array): string | null;
}

const own = new WeakMap<SyncReads, OwnReads>();

/** Registers `reads` as keyward's own reads of the store whose public synchronous reads are `sync`. */
export function offerOwnReads(sync: SyncReads, reads: OwnReads): void {
  own.set(sync, reads);
}

/** keyward's own reads of the store whose public synchronous reads are `sync`, or `sync` itself when it offers none. */
export function ownReadsOf(sync: SyncReads): OwnReads {
  return own.get(sync) ?? sync;
}

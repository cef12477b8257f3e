/**
 * Fresh reads sent together (the PostgreSQL store's `readBatching`): while `maxInFlight` read
 * statements are already running, a new read waits in a queue instead of taking another
 * connection; when one of them answers, the queue leaves as ONE statement (up to `maxBatch`
 * reads of one kind, {@link batchedRead}). The server's start-up of a statement (the executor,
 * the snapshot, the row description) is paid once for the batch, not once per read, which is
 * most of a fresh read's cost under load.
 *
 * Freshness is kept: a read joins only a statement that has not been sent, so the statement's
 * snapshot is taken after the read was asked for, and every change that resolved before it is
 * seen (R11, the consistency rule). A batch that fails fails each of its reads (fail closed);
 * the reads of other statements are not touched.
 * @module
 */

/** Options of the store's read batching. */
export interface ReadBatchingOptions {
  /**
   * How many read statements may run at once before reads are queued and sent together. Default
   * 4. A read that finds fewer running is sent at once, alone: a single caller never waits.
   */
  maxInFlight?: number;
  /** The most reads one statement carries. Default 64. */
  maxBatch?: number;
}

/** The validated settings. */
export interface ReadBatching {
  maxInFlight: number;
  maxBatch: number;
}

/** A read waiting for its statement. */
interface Waiting<P, R> {
  params: P;
  /** Its place in line: reads are sent oldest first. */
  seq: number;
  resolve(row: R): void;
  reject(e: unknown): void;
}

/** How a batcher runs one kind of read: alone, or many in one statement (answers in order). */
export interface BatchedKind<P, R> {
  one(params: P): Promise<R>;
  many(params: readonly P[]): Promise<R[]>;
}

/**
 * Reads of several kinds sharing one limit of statements in flight. `read(kind, params)` sends
 * at once when fewer than `maxInFlight` statements run; otherwise it queues, and each answer
 * sends the kind whose oldest read waits longest (up to `maxBatch` of its reads, in one
 * statement) while the limit allows.
 *
 * @example
 * ```ts
 * const b = readBatcher({ maxInFlight: 2, maxBatch: 64 }, { byDigest: { one: (p) => run(p), many: (ps) => runAll(ps) } });
 * const row = await b.read("byDigest", ["digest"]);
 * ```
 */
export function readBatcher<K extends string, P, R>(settings: ReadBatching, kinds: Record<K, BatchedKind<P, R>>) {
  let inFlight = 0;
  /** Reads asked so far: each waiting read's place in line. */
  let asked = 0;
  /** Each kind's waiting reads, oldest first (no entry when none waits). */
  const queues = new Map<K, Waiting<P, R>[]>();
  /** The kind whose oldest waiting read was asked first. */
  const longestWaiting = (): K => {
    let best: K | undefined;
    let bestSeq = Infinity;
    for (const [kind, waiting] of queues) {
      if (waiting[0]!.seq < bestSeq) {
        best = kind;
        bestSeq = waiting[0]!.seq;
      }
    }
    return best!;
  };
  const finished = () => {
    inFlight--;
    while (inFlight < settings.maxInFlight && queues.size > 0) {
      const kind = longestWaiting();
      const waiting = queues.get(kind)!;
      if (waiting.length <= settings.maxBatch) queues.delete(kind);
      send(kind, waiting.splice(0, settings.maxBatch));
    }
  };
  const send = (kind: K, batch: Waiting<P, R>[]) => {
    inFlight++;
    const run = kinds[kind];
    if (batch.length === 1) {
      const w = batch[0]!;
      run.one(w.params).then(w.resolve, w.reject).finally(finished);
      return;
    }
    run.many(batch.map((w) => w.params)).then(
      (rows) => {
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(rows[i]!);
      },
      (e: unknown) => {
        for (const w of batch) w.reject(e);
      },
    ).finally(finished);
  };
  return {
    read(kind: K, params: P): Promise<R> {
      if (inFlight < settings.maxInFlight) {
        inFlight++;
        const p = kinds[kind].one(params);
        p.then(finished, finished);
        return p;
      }
      return new Promise<R>((resolve, reject) => {
        const w = { params, seq: asked++, resolve, reject };
        const waiting = queues.get(kind);
        if (waiting === undefined) queues.set(kind, [w]);
        else waiting.push(w);
      });
    },
    /** Statements running now (for tests). */
    inFlight: () => inFlight,
  };
}

/**
 * Group commit for round trips: items submitted while `concurrency` batches are already running
 * wait and go out together as the next batch, so under load the number of statements (and of
 * PostgreSQL WAL flushes) grows far slower than the number of items, while an item that arrives
 * on an idle batcher goes out in the same turn of the event loop.
 */
export interface BatcherOptions<I, O> {
  /** Runs one batch; resolves with one result per item, in item order. */
  readonly run: (items: readonly I[]) => Promise<readonly O[]>;
  /** Most items per batch. */
  readonly maxBatch?: number;
  /** Batches running at once; more items wait for one of them to finish. */
  readonly concurrency?: number;
}

export type Batched<I, O> = (item: I) => Promise<O>;

interface Pending<I, O> {
  readonly item: I;
  readonly resolve: (result: O) => void;
  readonly reject: (error: unknown) => void;
}

export function createBatcher<I, O>(options: BatcherOptions<I, O>): Batched<I, O> {
  const maxBatch = options.maxBatch ?? 500;
  const concurrency = options.concurrency ?? 2;
  let queue: Pending<I, O>[] = [];
  let running = 0;
  let scheduled = false;

  const flush = (): void => {
    scheduled = false;
    while (queue.length > 0 && running < concurrency) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      running++;
      options
        .run(batch.map((p) => p.item))
        .then(
          (results) => {
            if (results.length !== batch.length) throw new Error(`a batch of ${batch.length} items returned ${results.length} results`);
            batch.forEach((p, i) => p.resolve(results[i]!));
          },
        )
        .catch((error: unknown) => batch.forEach((p) => p.reject(error)))
        .finally(() => {
          running--;
          flush();
        });
    }
  };

  return function submitToBatch(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      // Items of the same turn go out together; when every slot is busy, the next finishing batch takes them.
      if (!scheduled && running < concurrency) {
        scheduled = true;
        setImmediate(flush);
      }
    });
  };
}

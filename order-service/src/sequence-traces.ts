/**
 * The trace of each command this replica sent to an engine, by shard and engine sequence, so the
 * projection can carry it into the Kafka messages of that sequence and an order stays one trace
 * from the client to the consumers. Bounded per shard: the oldest entries go first, and the
 * projection forgets what it has published. Orders placed through another replica (with several
 * replicas) reach Kafka without their trace.
 */
import { type Context, TraceFlags, trace } from "@opentelemetry/api";

export class SequenceTraces {
  /** Per shard, in the order the acknowledgements came, which is sequence order. */
  private readonly byShard = new Map<string, Map<bigint, Context>>();

  constructor(private readonly capacityPerShard = 100_000) {}

  /** Remembers the context of a sampled trace; unsampled ones are not exported anyway. */
  remember(shard: string, sequence: bigint, ctx: Context): void {
    const span = trace.getSpanContext(ctx);
    if (!span || (span.traceFlags & TraceFlags.SAMPLED) === 0) return;
    let traces = this.byShard.get(shard);
    if (!traces) this.byShard.set(shard, (traces = new Map()));
    if (traces.size >= this.capacityPerShard) traces.delete(traces.keys().next().value!);
    traces.set(sequence, ctx);
  }

  get(shard: string, sequence: bigint): Context | undefined {
    return this.byShard.get(shard)?.get(sequence);
  }

  /** Forgets the shard's sequences up to `sequence` (published). */
  forgetUpTo(shard: string, sequence: bigint): void {
    const traces = this.byShard.get(shard);
    if (!traces) return;
    for (const key of traces.keys()) {
      if (key > sequence) break;
      traces.delete(key);
    }
  }
}

/**
 * The kafkajs consumer group on the executions topic. Each fetched batch of a partition goes to
 * the {@link FigureStore} in one transaction; the offsets stored there with the figures decide
 * where a partition continues, not Kafka's committed offsets:
 *
 *   1. on joining the group, seek every assigned partition to its offset in PostgreSQL (the
 *      first offset still in Kafka when there is none);
 *   2. per batch, apply it; a batch that does not contain the stored offset (fetched before the
 *      seek took effect, or after a rebuild swapped the tables) writes nothing and seeks there;
 *   3. after the COMMIT, resolve the offsets so Kafka's committed offsets follow, for tools that
 *      watch the group; they are never read back.
 *
 * stop() finishes the batch in flight (its COMMIT included), commits to Kafka and leaves the
 * group, so the partitions move to another member at once.
 */
import { SpanKind, trace } from "@opentelemetry/api";
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from "kafkajs";
import { contextOfHeaders } from "@hft/otel";
import { type ConsumerSupervisor, type Logger, superviseConsumer } from "@hft/service-kit";
import { traceContext } from "./execution-message.js";
import type { BatchResult, FigureStore } from "./figure-store.js";
import type { AnalyticsMetrics } from "./metrics.js";

export interface ExecutionConsumerOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly groupId: string;
  /** Built with {@link startOffsetsOf} of the same admin client. */
  readonly store: FigureStore;
  readonly admin: Admin;
  readonly logger: Logger;
  readonly metrics?: AnalyticsMetrics;
  /** Most bytes fetched per partition and request: the upper bound of a batch. Default 1 MiB. */
  readonly maxBytesPerPartition?: number;
  /**
   * How long the group waits for a member that stopped heartbeating before its partitions move
   * (a replacement of a crashed process joins only then), in ms. Default 30000 (30 s).
   */
  readonly sessionTimeoutMs?: number;
  /**
   * Partitions whose batches are applied at the same time, each in its own transaction (they
   * touch different accounts; the shared marks are locked in instrument order). Default 3.
   */
  readonly concurrentPartitions?: number;
  /** How often the lag gauge is refreshed from Kafka and PostgreSQL, in ms. Default 5000 (5 s). */
  readonly lagIntervalMs?: number;
  /** Called when the consumer crashed for good: kafkajs would not restart it, nor did new ones join the group. */
  readonly onFatal?: (error: Error) => void;
  /** Called after each committed batch (benchmarks, tests). */
  readonly onCommitted?: (partition: number, result: Extract<BatchResult, { kind: "applied" }>, committedAt: Date) => void;
}

/** The first offset still in Kafka of a partition of `topic`: where a partition without a stored offset starts. */
export function startOffsetsOf(admin: Admin, topic: string): (partition: number) => Promise<bigint> {
  return async function startOffset(partition) {
    const offsets = await admin.fetchTopicOffsets(topic);
    const found = offsets.find((o) => o.partition === partition);
    if (!found) throw new Error(`topic ${topic} has no partition ${partition}`);
    return BigInt(found.low);
  };
}

const tracer = trace.getTracer("hft-analytics-service");

/**
 * A span per message that carries its order's trace (the projection writes `traceparent`), from
 * the batch's start to its COMMIT: the analytics step of that order's trace.
 */
function traceApplied(partition: number, messages: readonly KafkaMessage[], startedAt: number, committedAt: Date): void {
  for (const message of messages) {
    const parent = contextOfHeaders(message.headers);
    if (!trace.getSpanContext(parent)) continue;
    tracer
      .startSpan(
        "apply hft.executions.v1",
        { kind: SpanKind.CONSUMER, startTime: startedAt, attributes: { "messaging.system": "kafka", "messaging.destination.partition.id": String(partition), "messaging.kafka.offset": Number(message.offset) } },
        parent,
      )
      .end(committedAt);
  }
}

export class ExecutionConsumer {
  private supervisor: ConsumerSupervisor | undefined;
  private lagTimer: NodeJS.Timeout | undefined;
  /** Per partition this member holds, the offset after the last batch it applied. */
  private readonly appliedUpTo = new Map<number, bigint>();

  constructor(private readonly options: ExecutionConsumerOptions) {}

  /** Whether the consumer is in the group and consuming. */
  get isRunning(): boolean {
    return this.supervisor?.running ?? false;
  }

  async start(): Promise<void> {
    const { kafka, topic, logger, metrics } = this.options;
    const sessionTimeout = this.options.sessionTimeoutMs ?? 30_000;
    this.supervisor = await superviseConsumer({
      logger,
      create: () => {
        const consumer = kafka.consumer({
          groupId: this.options.groupId,
          allowAutoTopicCreation: false,
          maxBytesPerPartition: this.options.maxBytesPerPartition ?? 1 << 20,
          maxWaitTimeInMs: 250,
          sessionTimeout,
          // A third of the session or less, as Kafka advises.
          heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeout / 3)),
        });
        consumer.on(consumer.events.GROUP_JOIN, (event) => {
          const partitions = event.payload.memberAssignment[topic] ?? [];
          this.appliedUpTo.clear();
          logger.info({ topic, partitions, memberId: event.payload.memberId }, "joined the consumer group");
          void this.seekToStored(consumer, partitions).catch((error: unknown) => logger.warn({ err: error }, "seeking to the stored offsets failed; batches will find them themselves"));
        });
        return consumer;
      },
      run: async (consumer) => {
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          autoCommit: true,
          autoCommitInterval: 5_000,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: this.options.concurrentPartitions ?? 3,
          eachBatch: (payload) => this.onBatch(payload),
        });
      },
      onReplaced: () => metrics?.consumerReplacements.inc(),
      onGaveUp: (error) => this.options.onFatal?.(error),
    });
    this.lagTimer = setInterval(() => {
      void this.refreshLag().catch((error: unknown) => logger.debug({ err: error }, "lag refresh failed"));
      void this.followReplacedTables().catch((error: unknown) => logger.warn({ err: error }, "checking the stored offsets failed"));
    }, this.options.lagIntervalMs ?? 5_000);
    this.lagTimer.unref();
  }

  /** Finishes the batch in flight, commits, leaves the group. */
  async stop(): Promise<void> {
    clearInterval(this.lagTimer);
    await this.supervisor?.stop();
  }

  /** Seeks the consumer in use (one that crashed was disconnected, and fetches nothing more). */
  private seek(partition: number, offset: bigint): void {
    this.supervisor?.consumer.seek({ topic: this.options.topic, partition, offset: offset.toString() });
  }

  private async seekToStored(consumer: Consumer, partitions: readonly number[]): Promise<void> {
    if (partitions.length === 0) return;
    const stored = await this.options.store.storedOffsets();
    const start = startOffsetsOf(this.options.admin, this.options.topic);
    for (const partition of partitions) {
      const offset = stored.get(partition) ?? (await start(partition));
      consumer.seek({ topic: this.options.topic, partition, offset: offset.toString() });
    }
  }

  private async onBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const { logger, metrics, topic } = this.options;
    const started = process.hrtime.bigint();
    const startedAt = Date.now();
    let result: BatchResult;
    try {
      result = await this.options.store.applyBatch(batch.partition, batch.messages);
    } catch (error) {
      metrics?.batchSeconds.observe({ outcome: "failed" }, Number(process.hrtime.bigint() - started) / 1e9);
      logger.error({ err: error, partition: batch.partition, from: batch.firstOffset() }, "batch failed; it will be fetched again");
      throw error;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (result.kind === "misplaced") {
      metrics?.batchSeconds.observe({ outcome: "misplaced" }, seconds);
      logger.info({ partition: batch.partition, fetched: `${batch.firstOffset()}..${batch.lastOffset()}`, stored: result.storedOffset.toString() }, "batch is not at the stored offset; seeking there");
      if (result.storedOffset < BigInt(batch.firstOffset() ?? "0") && result.storedOffset < (await startOffsetsOf(this.options.admin, topic)(batch.partition))) {
        // Retention deleted messages that were never counted: no replay can make the figures exact.
        logger.error({ partition: batch.partition, stored: result.storedOffset.toString() }, "messages after the stored offset are no longer in Kafka; the figures of this partition stay where they are");
        await new Promise((resolve) => setTimeout(resolve, 5_000));
      }
      this.seek(batch.partition, result.storedOffset);
      this.appliedUpTo.set(batch.partition, result.storedOffset);
      return;
    }
    this.appliedUpTo.set(batch.partition, result.nextOffset);
    const committedAt = new Date();
    traceApplied(batch.partition, batch.messages, startedAt, committedAt);
    metrics?.batchSeconds.observe({ outcome: "applied" }, seconds);
    metrics?.messages.inc({ result: "applied" }, result.applied.length);
    metrics?.messages.inc({ result: "duplicate" }, result.duplicates);
    metrics?.messages.inc({ result: "rejected" }, result.rejected.length);
    for (const fill of result.applied) metrics?.figureDelaySeconds.observe(Math.max(0, committedAt.getTime() - fill.executedAt.getTime()) / 1000);
    metrics?.consumerLag.set({ partition: String(batch.partition) }, Math.max(0, Number(BigInt(batch.highWatermark) - result.nextOffset)));
    // One line per batch, not per message: a topic full of foreign fills must not flood the log.
    const rejected = result.rejected[0];
    if (rejected) {
      logger.warn(
        { partition: batch.partition, offset: rejected.offset, code: rejected.code, rejected: result.rejected.length, ...traceContext(rejected.message) },
        `message rejected: ${rejected.reason}${result.rejected.length > 1 ? ` (and ${result.rejected.length - 1} more in this batch; all are in analytics_rejected_messages)` : ""}`,
      );
    }
    if (result.duplicates > 0) logger.info({ partition: batch.partition, duplicates: result.duplicates }, "duplicate fills skipped");
    logger.debug({ partition: batch.partition, applied: result.applied.length, nextOffset: result.nextOffset.toString(), ms: seconds * 1000, ...traceContext(batch.messages[batch.messages.length - 1]!) }, "batch applied");
    this.options.onCommitted?.(batch.partition, result, committedAt);
    resolveOffset(batch.lastOffset());
    await commitOffsetsIfNecessary();
    await heartbeat();
  }

  /**
   * A rebuild swaps in tables whose offsets are behind what this member applied to the old ones.
   * A partition that still receives messages finds out from its next batch; one that is idle
   * would wait for a message that may never come, so the stored offsets are compared with what
   * was applied, and a partition found behind is sought back. Offsets only grow otherwise: the
   * applied offsets are read before the stored ones, so a batch committing meanwhile cannot look
   * like a swap.
   */
  private async followReplacedTables(): Promise<void> {
    if (!this.isRunning || this.appliedUpTo.size === 0) return;
    const applied = new Map(this.appliedUpTo);
    const stored = await this.options.store.storedOffsets();
    for (const [partition, upTo] of applied) {
      const offset = stored.get(partition);
      if (offset === undefined || offset >= upTo || this.appliedUpTo.get(partition) !== upTo) continue;
      this.options.logger.info({ partition, applied: upTo.toString(), stored: offset.toString() }, "the figures' tables were replaced behind this member; seeking back to their offset");
      this.seek(partition, offset);
      this.appliedUpTo.set(partition, offset);
    }
  }

  private async refreshLag(): Promise<void> {
    const metrics = this.options.metrics;
    if (!metrics || !this.isRunning) return;
    const [offsets, stored] = await Promise.all([this.options.admin.fetchTopicOffsets(this.options.topic), this.options.store.storedOffsets()]);
    for (const { partition, high, low } of offsets) {
      const next = stored.get(partition) ?? BigInt(low);
      metrics.consumerLag.set({ partition: String(partition) }, Math.max(0, Number(BigInt(high) - next)));
    }
  }
}

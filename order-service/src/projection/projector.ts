/**
 * The projection of one engine shard: reads `Subscribe` from the sequence after the shard's
 * checkpoint and, batch by batch, writes the events to PostgreSQL, publishes them to Kafka and
 * advances the checkpoint in the same transaction.
 *
 * Order of effects per batch: BEGIN, rows and checkpoint, Kafka publish (awaited, idempotent
 * producer), COMMIT. A crash before COMMIT replays the batch after restart, so Kafka may carry a
 * message twice, but never misses one; every message carries its engine sequence (header
 * `engine-sequence`, and in the payload) so consumers drop what they have seen. PostgreSQL never
 * holds an event twice: the checkpoint moves with the rows.
 */
import * as grpc from "@grpc/grpc-js";
import { ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, context, trace } from "@opentelemetry/api";
import { traceHeaders } from "@hft/otel";
import type { Producer } from "kafkajs";
import type pg from "pg";
import type { Logger } from "@hft/service-kit";
import { EngineServiceClient, type SubscribeResponse } from "@hft/contract/grpc/hft/v1/engine_service.js";
import { asBuffer, encodedExecution, encodedOrder } from "../encoded-messages.js";
import type { OrderMetrics } from "../metrics.js";
import type { SequenceTraces } from "../sequence-traces.js";
import { type AppliedBatch, applyEvents, readCheckpoint } from "./apply-events.js";
import { type Names, executionMessage, orderMessage } from "./records.js";
import { EXECUTIONS_TOPIC, ORDERS_TOPIC } from "../config.js";

const tracer = trace.getTracer("hft-order-service");

export { EXECUTIONS_TOPIC, ORDERS_TOPIC };

export interface ProjectorOptions {
  readonly shard: string;
  readonly engineAddress: string;
  /** TLS (mutual with a client certificate) to the engine; plaintext when unset. */
  readonly credentials?: grpc.ChannelCredentials;
  readonly pool: pg.Pool;
  readonly producer: Producer;
  readonly logger: Logger;
  /** Where orders and executions are published; ORDERS_TOPIC and EXECUTIONS_TOPIC by default. */
  readonly topics?: { readonly orders: string; readonly executions: string };
  /** Most sequences per transaction. */
  readonly maxBatch?: number;
  /** Times the batch transactions and the Kafka publish, and reports the lag. */
  readonly metrics?: OrderMetrics;
  /** The traces of the commands this replica sent, carried into the messages of their sequences. */
  readonly sequenceTraces?: SequenceTraces;
  /** Called after each committed batch, with the rows as they now stand. */
  readonly onCommitted?: (batch: AppliedBatch, names: Names) => void;
}

export class Projector {
  private readonly client: EngineServiceClient;
  private stream: grpc.ClientReadableStream<SubscribeResponse> | undefined;
  private buffer: SubscribeResponse[] = [];
  private applied = 0n;
  private received = 0n;
  private flushing: Promise<void> | undefined;
  private stopped = false;
  private resubscribeTimer: NodeJS.Timeout | undefined;
  /** Ends the wait before a failed batch is tried again (stop() must not wait on a timer it cleared). */
  private endRetryWait: (() => void) | undefined;
  private readonly symbols = new Map<number, string>();
  private readonly accounts = new Map<string, string>();
  private caughtUpWaiters: { sequence: bigint; settle: (reached: boolean) => void }[] = [];

  constructor(private readonly options: ProjectorOptions) {
    this.client = new EngineServiceClient(options.engineAddress, options.credentials ?? grpc.credentials.createInsecure(), {
      "grpc.keepalive_time_ms": 10_000,
      "grpc.max_receive_message_length": 64 << 20,
    });
  }

  /** The last engine sequence committed to PostgreSQL. */
  get appliedSequence(): bigint {
    return this.applied;
  }

  /** The last engine sequence received from the engine (applied or waiting in the batch). */
  get receivedSequence(): bigint {
    return this.received;
  }

  get shard(): string {
    return this.options.shard;
  }

  /** Resolves true once every sequence up to `sequence` is committed, false after `timeoutMs`. */
  caughtUp(sequence: bigint, timeoutMs: number): Promise<boolean> {
    if (this.applied >= sequence) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        sequence,
        settle: (reached: boolean) => {
          clearTimeout(timer);
          this.caughtUpWaiters = this.caughtUpWaiters.filter((w) => w !== waiter);
          resolve(reached);
        },
      };
      const timer = setTimeout(() => waiter.settle(false), timeoutMs);
      this.caughtUpWaiters.push(waiter);
    });
  }

  async start(): Promise<void> {
    this.applied = await readCheckpoint(this.options.pool, this.options.shard);
    this.received = this.applied;
    this.subscribe();
  }

  /** Stops reading, commits what was received, and closes the engine connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.resubscribeTimer);
    this.endRetryWait?.();
    this.stream?.cancel();
    this.stream = undefined;
    await this.flushing;
    if (this.buffer.length > 0) await this.flush();
    this.client.close();
  }

  private subscribe(): void {
    if (this.stopped) return;
    const stream = this.client.subscribe({ fromSequence: this.applied + 1n });
    this.stream = stream;
    this.received = this.applied;
    stream.on("data", (message: SubscribeResponse) => {
      if (message.sequence !== this.received + 1n) {
        return this.restart(stream, `sequence ${message.sequence} after ${this.received}: the stream skipped or repeated`);
      }
      this.received = message.sequence;
      this.options.metrics?.projectionLag.set({ shard: this.options.shard }, Number(this.received - this.applied));
      this.buffer.push(message);
      if (this.buffer.length >= (this.options.maxBatch ?? 2_000)) stream.pause();
      this.scheduleFlush();
    });
    stream.on("error", (error: grpc.ServiceError) => {
      if (error.code !== grpc.status.CANCELLED || !this.stopped) this.restart(stream, error.details || error.message);
    });
    stream.on("end", () => this.restart(stream, "the engine ended the stream"));
  }

  /** Drops what was received but not committed and subscribes again after the checkpoint. */
  private restart(stream: grpc.ClientReadableStream<SubscribeResponse>, reason: string): void {
    if (this.stream !== stream || this.stopped) return;
    this.stream = undefined;
    stream.cancel();
    this.options.logger.warn({ shard: this.options.shard, reason, applied: this.applied.toString() }, "projection stream lost; resubscribing");
    void (this.flushing ?? Promise.resolve()).then(() => {
      this.buffer = [];
      this.resubscribeTimer = setTimeout(() => this.subscribe(), 200);
    });
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    // Outside the Subscribe stream's trace: a batch's statements belong to no request, and its
    // messages continue their own orders' traces.
    this.flushing = new Promise((resolve) => setImmediate(resolve)).then(() => context.with(ROOT_CONTEXT, () => this.flush()));
  }

  private async flush(): Promise<void> {
    const batch = this.buffer.splice(0, this.options.maxBatch ?? 2_000);
    if (batch.length === 0) return this.flushDone();
    const client = await this.options.pool.connect().catch((error: Error) => error);
    if (client instanceof Error) return this.retry(batch, client);
    const timer = this.options.metrics?.dependencySeconds.startTimer({ dependency: "postgres", operation: "projection_batch" });
    try {
      await client.query("BEGIN");
      const applied = await applyEvents(client, this.options.shard, batch);
      const names = await this.names(client, applied);
      await this.publish(applied, names);
      await client.query("COMMIT");
      timer?.({ outcome: "ok" });
      this.applied = applied.lastSequence;
      this.options.metrics?.projectionApplied.set({ shard: this.options.shard }, Number(this.applied));
      this.options.metrics?.projectionLag.set({ shard: this.options.shard }, Number(this.received - this.applied));
      for (const skipped of applied.skipped) this.options.logger.warn({ shard: this.options.shard }, skipped);
      this.options.onCommitted?.(applied, names);
      this.wakeCaughtUpWaiters();
      client.release();
    } catch (error) {
      timer?.({ outcome: "error" });
      await client.query("ROLLBACK").catch(() => undefined);
      client.release();
      return this.retry(batch, error as Error);
    }
    this.flushDone();
  }

  private wakeCaughtUpWaiters(): void {
    for (const waiter of this.caughtUpWaiters.filter((w) => w.sequence <= this.applied)) waiter.settle(true);
  }

  private flushDone(): void {
    this.flushing = undefined;
    if (this.buffer.length > 0) this.scheduleFlush();
    else this.stream?.resume();
  }

  /** Puts the batch back and tries again shortly; the stream stays paused meanwhile. */
  private retry(batch: SubscribeResponse[], error: Error): void {
    this.options.logger.error({ shard: this.options.shard, err: error, from: batch[0]?.sequence.toString() }, "projection batch failed; retrying");
    this.buffer.unshift(...batch);
    this.stream?.pause();
    this.flushing = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 500);
      this.endRetryWait = () => (clearTimeout(timer), resolve());
    }).then(() => {
      this.endRetryWait = undefined;
      return this.stopped ? undefined : this.flush();
    });
  }

  private async publish(applied: AppliedBatch, names: Names): Promise<void> {
    const clientOrderIds = new Map(applied.orders.map((o) => [o.order_id, o.client_order_id]));
    // A message of a sequence this replica submitted continues that command's trace: a publish
    // span under it, whose context the message carries to its consumers.
    const spans: Span[] = [];
    const traceOf = (topic: string, sequence: string): Record<string, string> => {
      const parent = this.options.sequenceTraces?.get(this.options.shard, BigInt(sequence));
      if (!parent) return {};
      const span = tracer.startSpan(`publish ${topic}`, { kind: SpanKind.PRODUCER, attributes: { "messaging.system": "kafka", "messaging.destination.name": topic, "hft.engine.sequence": Number(sequence) } }, parent);
      spans.push(span);
      return traceHeaders(trace.setSpan(parent, span));
    };
    const headers = (topic: string, sequence: string) => ({
      "engine-sequence": sequence,
      shard: this.options.shard,
      "content-type": "application/protobuf",
      ...traceOf(topic, sequence),
    });
    const { orders, executions } = this.options.topics ?? { orders: ORDERS_TOPIC, executions: EXECUTIONS_TOPIC };
    const topicMessages = [
      {
        topic: orders,
        messages: applied.orders.map((row) => ({
          key: row.account_id,
          value: asBuffer(encodedOrder(orderMessage(row, names))),
          headers: { ...headers(orders, row.last_sequence), "proto-message": "hft.v1.Order" },
        })),
      },
      {
        topic: executions,
        messages: applied.executions.map((row) => ({
          key: row.account_id,
          value: asBuffer(encodedExecution(executionMessage(row, clientOrderIds.get(row.order_id) ?? "", names))),
          headers: { ...headers(executions, row.sequence), "proto-message": "hft.v1.Execution" },
        })),
      },
    ].filter((t) => t.messages.length > 0);
    if (topicMessages.length === 0) return;
    const send = () => this.options.producer.sendBatch({ topicMessages, acks: -1 });
    try {
      await (this.options.metrics ? this.options.metrics.time("kafka", "publish", send) : send());
    } catch (error) {
      for (const span of spans) span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      for (const span of spans) span.end();
    }
    this.options.sequenceTraces?.forgetUpTo(this.options.shard, applied.lastSequence);
  }

  /** Symbols and account names of the batch's rows, loaded once and cached. */
  private async names(client: pg.ClientBase, applied: AppliedBatch): Promise<Names> {
    const rows = [...applied.orders, ...applied.executions];
    if (rows.some((r) => !this.symbols.has(r.instrument_id))) {
      const result = await client.query<{ instrument_id: number; symbol: string }>("SELECT instrument_id, symbol FROM instruments");
      for (const r of result.rows) this.symbols.set(r.instrument_id, r.symbol);
    }
    const missing = [...new Set(rows.map((r) => r.account_id).filter((id) => !this.accounts.has(id)))];
    if (missing.length > 0) {
      const result = await client.query<{ account_id: string; name: string }>("SELECT account_id, name FROM accounts WHERE account_id = ANY($1::bigint[])", [missing]);
      for (const r of result.rows) this.accounts.set(r.account_id, r.name);
    }
    return {
      symbol: (id) => this.symbols.get(id) ?? String(id),
      account: (id) => this.accounts.get(id) ?? id,
    };
  }
}

/**
 * The order service's Prometheus metrics. Latencies of the order path are in microseconds (the
 * scale an order path is judged on); dependency operations in seconds, as Prometheus prefers.
 */
import type pg from "pg";
import { Counter, Gauge, Histogram } from "prom-client";
import type { MetricsRegistry } from "@hft/service-kit";
import { microsecondBuckets, secondBuckets } from "@hft/service-kit";
import { OrderStatus } from "@hft/contract/grpc/hft/v1/types.js";

export type Dependency = "postgres" | "redis" | "kafka";

export class OrderMetrics {
  /** From the desk receiving an instruction to its answer; `stage="engine"` is the engine round trip within. */
  readonly processing: Histogram<"operation" | "stage">;
  /** Orders placed, by the status the engine's acknowledgement left them in. */
  readonly orders: Counter<"status">;
  /** Instructions refused before reaching the engine, by reason (risk rule, validation...). */
  readonly refused: Counter<"operation" | "reason">;
  /** Instructions that failed for want of the engine or by a fault of the service. */
  readonly executionErrors: Counter<"operation" | "kind">;
  readonly engineLinkUp: Gauge<"shard">;
  /** Engine sequences received by the projection but not yet committed to PostgreSQL. */
  readonly projectionLag: Gauge<"shard">;
  readonly projectionApplied: Gauge<"shard">;
  readonly dependencySeconds: Histogram<"dependency" | "operation" | "outcome">;

  constructor(registry: MetricsRegistry, pool: pg.Pool) {
    const registers = [registry];
    this.processing = new Histogram({
      name: "hft_order_processing_microseconds",
      help: "Order instruction latency in microseconds, received to answered (stage=total) and the engine's durable acknowledgement within it (stage=engine).",
      labelNames: ["operation", "stage"],
      buckets: microsecondBuckets,
      registers,
      // The trace id of a sampled call on its bucket: Grafana links the latency panel to Jaeger.
      enableExemplars: true,
    });
    this.orders = new Counter({ name: "hft_orders_total", help: "Orders placed, by status after the engine's acknowledgement.", labelNames: ["status"], registers });
    this.refused = new Counter({ name: "hft_order_instructions_refused_total", help: "Instructions refused by the order service, by reason.", labelNames: ["operation", "reason"], registers });
    this.executionErrors = new Counter({
      name: "hft_order_execution_errors_total",
      help: "Instructions that failed: engine unavailable, or an internal error.",
      labelNames: ["operation", "kind"],
      registers,
    });
    this.engineLinkUp = new Gauge({ name: "hft_engine_link_up", help: "1 while the OrderFlow stream to the shard's engine is ready.", labelNames: ["shard"], registers });
    this.projectionLag = new Gauge({ name: "hft_projection_lag_sequences", help: "Engine sequences received and not yet committed, on the projection leader.", labelNames: ["shard"], registers });
    this.projectionApplied = new Gauge({ name: "hft_projection_applied_sequence", help: "The last engine sequence committed to PostgreSQL, on the projection leader.", labelNames: ["shard"], registers });
    this.dependencySeconds = new Histogram({
      name: "hft_dependency_operation_seconds",
      help: "PostgreSQL, Redis and Kafka operations of the order service, in seconds.",
      labelNames: ["dependency", "operation", "outcome"],
      buckets: secondBuckets,
      registers,
    });
    new Gauge({
      name: "hft_active_positions",
      help: "Account and instrument pairs with a non-zero net position.",
      registers,
      async collect() {
        const { rows } = await pool.query<{ count: string }>("SELECT count(*) FROM positions WHERE net_quantity <> 0");
        this.set(Number(rows[0]?.count ?? 0));
      },
    });
  }

  /** Runs a dependency operation and records how long it took and whether it failed. */
  async time<T>(dependency: Dependency, operation: string, run: () => Promise<T>): Promise<T> {
    const end = this.dependencySeconds.startTimer({ dependency, operation });
    try {
      const result = await run();
      end({ outcome: "ok" });
      return result;
    } catch (error) {
      end({ outcome: "error" });
      throw error;
    }
  }

  placed(status: OrderStatus): void {
    this.orders.inc({ status: (OrderStatus[status] ?? String(status)).replace("ORDER_STATUS_", "").toLowerCase() });
  }
}

/** Microseconds since `start` (process.hrtime.bigint()). */
export const microsSince = (start: bigint) => Number(process.hrtime.bigint() - start) / 1_000;

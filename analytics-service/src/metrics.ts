/**
 * The analytics service's own Prometheus series, beside the gRPC call metrics and Node's process
 * metrics in the same registry.
 */
import { Counter, Gauge, Histogram } from "prom-client";
import type { MetricsRegistry } from "@hft/service-kit";
import { secondBuckets } from "@hft/service-kit";

export class AnalyticsMetrics {
  /** Messages in the partition after the offset stored in PostgreSQL. */
  readonly consumerLag: Gauge<"partition">;
  /** One batch's transaction, BEGIN to COMMIT, by outcome. */
  readonly batchSeconds: Histogram<"outcome">;
  /** From a fill's execute time to the COMMIT that counted it. */
  readonly figureDelaySeconds: Histogram;
  /** Messages read, by what became of them: applied, duplicate or rejected. */
  readonly messages: Counter<"result">;
  /** New consumers started in place of one that crashed for good (kafkajs would not restart it). */
  readonly consumerReplacements: Counter;

  constructor(registry: MetricsRegistry) {
    this.consumerLag = new Gauge({
      name: "analytics_consumer_lag",
      help: "Messages of hft.executions.v1 after the offset committed with the figures, per partition.",
      labelNames: ["partition"],
      registers: [registry],
    });
    this.batchSeconds = new Histogram({
      name: "analytics_batch_seconds",
      help: "Time of one batch's PostgreSQL transaction (figures and offsets), in seconds, by outcome.",
      labelNames: ["outcome"],
      buckets: secondBuckets,
      registers: [registry],
    });
    this.figureDelaySeconds = new Histogram({
      name: "analytics_figure_delay_seconds",
      help: "Time from a fill's execute time to the commit of the figures that count it, in seconds.",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    });
    this.messages = new Counter({
      name: "analytics_messages_total",
      help: "Execution messages read, by result: applied, duplicate (already counted) or rejected (not a valid fill).",
      labelNames: ["result"],
      registers: [registry],
    });
    this.consumerReplacements = new Counter({
      name: "analytics_consumer_replacements_total",
      help: "New Kafka consumers started in place of one that crashed with an error kafkajs does not restart from (a broker restart, say).",
      registers: [registry],
    });
  }
}

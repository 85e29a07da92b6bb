import { Counter, Gauge, Histogram } from "prom-client";
import type { MetricsRegistry } from "@hft/service-kit";
import { secondBuckets } from "@hft/service-kit";

/** The gateway's own series, registered in the service's registry. */
export class GatewayMetrics {
  /** Every HTTP request by route template (not the raw path: bounded cardinality), method and status. */
  readonly httpDuration: Histogram<"route" | "method" | "status">;
  /** Every RPC forwarded (Connect, gRPC, gRPC-Web, REST, WebSocket), by method, protocol and code, to its end. */
  readonly rpcDuration: Histogram<"rpc" | "protocol" | "code">;
  readonly rateLimited: Counter;
  readonly rateLimitDegraded: Counter;
  readonly wsConnections: Gauge;
  readonly wsDropped: Counter<"reason">;
  readonly wsMarketFeeds: Gauge;

  constructor(registry: MetricsRegistry) {
    this.httpDuration = new Histogram({
      name: "hft_gateway_http_request_duration_seconds",
      help: "HTTP requests served by the gateway, by route template, method and status, from the request to the end of the response.",
      labelNames: ["route", "method", "status"],
      buckets: secondBuckets,
      registers: [registry],
      enableExemplars: true,
    });
    this.rpcDuration = new Histogram({
      name: "hft_gateway_rpc_duration_seconds",
      help: "RPCs forwarded to a backend, by method, client protocol and final code, until the call ended.",
      labelNames: ["rpc", "protocol", "code"],
      buckets: secondBuckets,
      registers: [registry],
      enableExemplars: true,
    });
    this.rateLimited = new Counter({ name: "hft_gateway_rate_limited_total", help: "Requests refused by the rate limit (429 / RESOURCE_EXHAUSTED).", registers: [registry] });
    this.rateLimitDegraded = new Counter({
      name: "hft_gateway_rate_limit_unavailable_total",
      help: "Requests let through uncounted because Redis did not answer the rate limiter.",
      registers: [registry],
    });
    this.wsConnections = new Gauge({ name: "hft_gateway_websocket_connections", help: "Open WebSocket connections on /ws.", registers: [registry] });
    this.wsDropped = new Counter({ name: "hft_gateway_websocket_dropped_total", help: "WebSocket connections closed by the gateway, by reason.", labelNames: ["reason"], registers: [registry] });
    this.wsMarketFeeds = new Gauge({
      name: "hft_gateway_websocket_market_feeds",
      help: "Market data streams from the order service shared by the /ws subscribers: one per symbol and set of channels.",
      registers: [registry],
    });
  }
}

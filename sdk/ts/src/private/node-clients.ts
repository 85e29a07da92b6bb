import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { type PlatformClientOptions, interceptorsOf } from "./client-options.js";
import { type PlatformClients, createPlatformClients } from "./platform-clients.js";

export interface NodeClientOptions extends PlatformClientOptions {
  /** `connect` (the default) or `grpc`; both are served on the gateway's one port. */
  protocol?: "connect" | "grpc";
  /** HTTP version of the Connect protocol: "2" (the default) multiplexes every call on one connection. */
  httpVersion?: "1.1" | "2";
}

/** Clients of OrderService, MarketDataService and AnalyticsService through the gateway at `baseUrl`. */
export function createNodeClients(options: NodeClientOptions): PlatformClients {
  const interceptors = interceptorsOf(options);
  const transport =
    options.protocol === "grpc"
      ? createGrpcTransport({ baseUrl: options.baseUrl, interceptors })
      : createConnectTransport({ baseUrl: options.baseUrl, httpVersion: options.httpVersion ?? "2", interceptors });
  return createPlatformClients(transport);
}


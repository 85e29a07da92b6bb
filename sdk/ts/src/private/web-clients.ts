import { createConnectTransport } from "@connectrpc/connect-web";
import { type PlatformClientOptions, interceptorsOf } from "./client-options.js";
import { type PlatformClients, createPlatformClients } from "./platform-clients.js";

/**
 * Clients of OrderService, MarketDataService and AnalyticsService through the gateway at `baseUrl`,
 * over fetch. The page's origin must be in the gateway's GATEWAY_CORS_ORIGINS.
 */
export function createWebClients(options: PlatformClientOptions): PlatformClients {
  return createPlatformClients(createConnectTransport({ baseUrl: options.baseUrl, interceptors: interceptorsOf(options) }));
}


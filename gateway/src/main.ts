/**
 * hft-gateway: the public services over Connect, gRPC, gRPC-Web, REST/JSON and WebSocket on one
 * port, forwarded to the backends over gRPC. SIGTERM/SIGINT: streams and WebSockets are told to
 * go (UNAVAILABLE / close 1001), the listener closes once its connections are idle, exit 0.
 */
import { shutdownTracing } from "@hft/otel";
import { createLogger, loadConfigOrExit, useFastProtobufText } from "@hft/service-kit";
import { gatewayConfigShape } from "./config.js";
import { startGateway } from "./gateway.js";

useFastProtobufText();
const config = loadConfigOrExit(gatewayConfigShape, "hft-gateway");
const logger = createLogger({ service: "gateway", level: config.LOG_LEVEL });

const gateway = await startGateway(config, logger).catch((error: Error) => {
  logger.fatal({ err: error }, `cannot start on ${config.GATEWAY_LISTEN}`);
  process.exit(1);
});
logger.info(
  { listen: gateway.address, tls: gateway.tls, orderService: config.GATEWAY_ORDER_SERVICE, marketDataService: config.GATEWAY_MARKET_DATA_SERVICE, analyticsService: config.GATEWAY_ANALYTICS_SERVICE },
  "gateway listening",
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "draining");
  try {
    await gateway.close();
  } catch (error) {
    logger.error({ err: error }, "shutdown failed");
    process.exit(1);
  }
  logger.info("stopped");
  await shutdownTracing();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

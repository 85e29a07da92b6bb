/**
 * `node --conditions=@hft/source --import tsx examples/market-maker/src/main.ts --token … [flags]`:
 * configuration → clients → the market maker, until SIGINT or SIGTERM, when it cancels its quotes
 * and exits 0. A bad setting exits 2 naming it; a symbol that cannot be traded exits 1.
 */
import { createNodeClients } from "@hft/sdk/node";
import { pino } from "pino";
import { ConfigError, loadMarketMakerConfig } from "./config.js";
import { createMarketMaker } from "./market-maker.js";

let config;
try {
  config = loadMarketMakerConfig(process.argv.slice(2), process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`market-maker: ${error.message}`);
  process.exit(2);
}

const logger = pino({ name: "market-maker", level: process.env.LOG_LEVEL ?? "info" });
const clients = createNodeClients({ baseUrl: config.target, token: config.token, protocol: config.protocol });
const stop = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => stop.abort(signal));

try {
  await createMarketMaker({ config, clients, logger }).run(stop.signal);
} catch (error) {
  logger.fatal({ err: error }, "market maker failed");
  process.exitCode = 1;
}

/** Every scenario, in the order a run takes them. */
import type { Scenario } from "../scenario.js";
import { analytics } from "./analytics.js";
import { engineGrpc } from "./engine-grpc.js";
import { engineInProcess } from "./engine-in-process.js";
import { gateway } from "./gateway.js";
import { orderStream } from "./order-stream.js";
import { orderUnary } from "./order-unary.js";
import { twoShard } from "./two-shard.js";
import { wsFanout } from "./ws-fanout.js";

export const scenarios: readonly Scenario[] = [engineInProcess, engineGrpc, orderUnary, orderStream, gateway, wsFanout, analytics, twoShard];

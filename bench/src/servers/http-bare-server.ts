/**
 * The HTTP/1.1 ceilings of the gateway scenario, in one process that does nothing else: bare
 * Node HTTP answering `GET /api/v1/orders/{id}` with the JSON the gateway's REST route returns for
 * that order (same message, same JSON options), and connect-node on the same HTTP/1.1 server
 * answering Connect's GetOrder with the same order in binary. The order is the gateway bare
 * backend's (gateway/bench/get-order-answer.ts). Prints `listening <host:port>` when ready.
 */
import * as http from "node:http";
import { toJson } from "@bufbuild/protobuf";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { GetOrderResponseSchema, OrderService } from "@hft/contract/es/hft/v1/order_service_pb.js";
import { getOrderAnswer } from "../../../gateway/bench/get-order-answer.js";

const connect = connectNodeAdapter({ routes: (router) => router.service(OrderService, { getOrder: (request) => getOrderAnswer(request.orderId) }) });
const restPath = /^\/api\/v1\/orders\/([^/?]+)$/;

const server = http.createServer((req, res) => {
  const rest = req.method === "GET" ? restPath.exec(req.url ?? "") : null;
  if (!rest) return connect(req, res);
  const text = JSON.stringify(toJson(GetOrderResponseSchema, getOrderAnswer(decodeURIComponent(rest[1]!)), { alwaysEmitImplicit: true }));
  res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
});
server.keepAliveTimeout = 60_000;
const [host, port] = (process.argv[2] ?? "127.0.0.1:0").split(":");
server.listen(Number(port), host, () => process.stdout.write(`listening ${host}:${(server.address() as { port: number }).port}\n`));
process.on("SIGTERM", () => process.exit(0));

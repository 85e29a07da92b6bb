/**
 * The ceiling for the gateway benchmark: a bare connect-node server (HTTP/2 cleartext, Connect and
 * gRPC) with the OrderService contract, answering GetOrder at once with one fixed order of the
 * size the order service returns, and doing nothing else. Used twice: called directly by the
 * load client (the bare rate), and as the backend behind a gateway (the gateway's own cost).
 * Run as its own process. Prints `listening <host:port>` when ready.
 */
import * as http2 from "node:http2";
import type { Socket } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { OrderService } from "@hft/contract/es/hft/v1/order_service_pb.js";
import { getOrderAnswer } from "./get-order-answer.js";

const handler = connectNodeAdapter({ routes: (router) => router.service(OrderService, { getOrder: (request) => getOrderAnswer(request.orderId) }) });
const server = http2.createServer(handler);
// Nagle off, as grpc-js does for the real order service: a response's trailers must not wait for an ACK.
server.on("connection", (socket: Socket) => socket.setNoDelay(true));
const [host, port] = (process.argv[2] ?? "127.0.0.1:0").split(":");
server.listen(Number(port), host, () => {
  process.stdout.write(`listening ${host}:${(server.address() as { port: number }).port}\n`);
});
process.on("SIGTERM", () => process.exit(0));

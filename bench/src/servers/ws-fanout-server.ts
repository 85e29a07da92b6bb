/**
 * The WebSocket ceiling: a bare `ws` server that does nothing but fan out. `POST /broadcast?rate=R&count=N`
 * sends N trade messages at R per second to every connected client, each the shape and size of
 * the gateway's market data trade and stamped with the time it is broadcast; the clients time it
 * from that stamp, as they time the gateway's from the trade's. Prints `listening <host:port>`.
 */
import * as http from "node:http";
import { WebSocketServer } from "ws";
import { rfc3339Now } from "../wall-clock.js";

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (req.method !== "POST" || url.pathname !== "/broadcast") return void res.writeHead(404).end();
  const rate = Number(url.searchParams.get("rate"));
  const count = Number(url.searchParams.get("count"));
  if (!(rate > 0 && rate <= 100_000 && Number.isInteger(count) && count > 0 && count <= 1_000_000)) return void res.writeHead(400).end("rate and count\n");
  res.writeHead(202).end();
  const started = performance.now();
  let sent = 0;
  const tick = setInterval(() => {
    const due = Math.min(count, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
    for (; sent < due; sent++) {
      const text = JSON.stringify({
        type: "market_data",
        symbol: "MSFT",
        data: { symbol: "MSFT", sequence: String(100_000 + sent), trade: { tradeId: String(50_000 + sent), price: "100", quantity: "1", aggressorSide: "SIDE_BUY", tradeTime: rfc3339Now() } },
      });
      for (const client of wss.clients) client.send(text);
    }
    if (sent >= count) clearInterval(tick);
  }, 1);
});
const wss = new WebSocketServer({ server, path: "/ws", perMessageDeflate: false });
const [host, port] = (process.argv[2] ?? "127.0.0.1:0").split(":");
server.listen(Number(port), host, () => process.stdout.write(`listening ${host}:${(server.address() as { port: number }).port}\n`));
process.on("SIGTERM", () => process.exit(0));

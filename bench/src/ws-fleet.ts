/**
 * A fleet of WebSocket clients (package `ws`) in this process, each timing every trade it
 * receives from the trade's own timestamp (the `tradeTime` the gateway's market data carries, the
 * engine's clock; or the bare fan-out server's send stamp) to its arrival here, on the same
 * machine's clock.
 */
import { WebSocket } from "ws";
import { LatencySamples } from "./latency.js";
import { nowUs, rfc3339Us } from "./wall-clock.js";

// The stamp is found without parsing the message: a thousand clients each reading every trade
// would otherwise spend this process's time on JSON.parse, not on receiving.
const tradeTime = /"tradeTime":"([^"]+)"/;

export interface Fleet {
  readonly latencies: LatencySamples;
  /** Trades received, over all clients. */
  received(): number;
  /** Clients whose connection closed before `close()`. */
  dropped(): number;
  close(): Promise<void>;
}

export interface FleetOptions {
  readonly url: string;
  readonly clients: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent once a client's connection is open. */
  readonly subscribe?: object;
  /** A message that confirms the subscription (the gateway's `"type":"subscribed"`); without, open is enough. */
  readonly subscribed?: string;
  /** Connections opened at once. */
  readonly batch?: number;
}

/** Connects every client (and subscribes it), resolving once all are ready; rejects if one fails. */
export async function connectFleet(options: FleetOptions): Promise<Fleet> {
  const latencies = new LatencySamples();
  const sockets: WebSocket[] = [];
  let received = 0;
  let dropped = 0;
  let closing = false;
  const connectOne = () =>
    new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(options.url, { headers: { ...options.headers }, perMessageDeflate: false });
      sockets.push(ws);
      const timer = setTimeout(() => reject(new Error(`a client of ${options.url} was not ready within 30 s`)), 30_000);
      const ready = () => (clearTimeout(timer), resolve());
      ws.on("open", () => {
        if (options.subscribe) ws.send(JSON.stringify(options.subscribe));
        if (!options.subscribed) ready();
      });
      ws.on("message", (data: Buffer) => {
        const at = nowUs();
        const text = data.toString();
        const stamp = tradeTime.exec(text);
        if (stamp) {
          received++;
          latencies.add(at - rfc3339Us(stamp[1]!));
        } else if (options.subscribed && text.includes(options.subscribed)) ready();
      });
      ws.on("error", (error) => (clearTimeout(timer), reject(error)));
      ws.on("close", () => {
        if (!closing) dropped++;
      });
    });
  try {
    const batch = options.batch ?? 50;
    for (let i = 0; i < options.clients; i += batch) await Promise.all(Array.from({ length: Math.min(batch, options.clients - i) }, connectOne));
  } catch (error) {
    closing = true;
    for (const ws of sockets) ws.terminate();
    throw error;
  }
  return {
    latencies,
    received: () => received,
    dropped: () => dropped,
    async close() {
      closing = true;
      await Promise.all(
        sockets.map((ws) => new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once("close", () => resolve());
          ws.close();
          setTimeout(() => (ws.terminate(), resolve()), 2_000).unref();
        })),
      );
    },
  };
}

import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { Duplex } from "node:stream";
import type { HttpRequest, HttpResponse } from "./http-io.js";

/** The HTTP/2 connection preface starts with these bytes; no HTTP/1.x request line does. */
const preface = Buffer.from("PRI * HTTP/2.0");

/**
 * A duplex stream that first yields `head` and then whatever `socket` receives, and writes to
 * `socket`. It carries the client's address for the HTTP/2 request listener.
 */
function replayingStream(socket: net.Socket, head: Buffer): Duplex {
  const stream = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(error, callback) {
      socket.destroy(error ?? undefined);
      callback(error);
    },
  });
  stream.push(head);
  socket.on("data", (chunk: Buffer) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.on("end", () => stream.push(null));
  socket.on("close", () => stream.destroy());
  socket.on("error", (error) => stream.destroy(error));
  Object.assign(stream, { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort });
  return stream;
}

export interface OnePortServer {
  /** `host:port` actually bound (port 0 picks a free one). */
  readonly address: string;
  /** Stops accepting; open HTTP/1.1 keep-alive connections and HTTP/2 sessions are closed once idle. */
  close(): Promise<void>;
}

export interface OnePortServerOptions {
  readonly listen: string;
  readonly handler: (req: HttpRequest, res: HttpResponse) => void;
  /** HTTP/1.1 upgrade requests (WebSocket). */
  readonly onUpgrade?: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;
  readonly maxHeaderBytes?: number;
}

/**
 * HTTP/2 cleartext (h2c with prior knowledge: gRPC, Connect) and HTTP/1.1 (REST, Connect,
 * gRPC-Web, WebSocket) on one TCP port without TLS. Node's plaintext HTTP/2 server speaks only
 * HTTP/2, so each connection's first bytes decide: the HTTP/2 preface goes to the HTTP/2 server,
 * anything else to the HTTP/1.1 server. Both share one request listener.
 */
export async function startOnePortServer(options: OnePortServerOptions): Promise<OnePortServer> {
  const h1 = http.createServer({ maxHeaderSize: options.maxHeaderBytes ?? 16 * 1024, keepAliveTimeout: 65_000 }, options.handler);
  const h2 = http2.createServer({ maxSessionMemory: 32 }, options.handler);
  if (options.onUpgrade) h1.on("upgrade", options.onUpgrade);
  const sockets = new Set<net.Socket>();

  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.setNoDelay(true);
    let seen = Buffer.alloc(0);
    const decide = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const compared = Math.min(seen.length, preface.length);
      const isH2 = seen.subarray(0, compared).equals(preface.subarray(0, compared));
      if (isH2 && seen.length < preface.length) return; // still ambiguous: wait for more bytes
      socket.off("data", decide);
      if (isH2) {
        // Node's HTTP/2 session reads the socket's handle itself, past any bytes given back with
        // unshift(); so it gets a stream that replays what was read and then carries the socket.
        h2.emit("connection", replayingStream(socket, seen));
      } else {
        socket.pause();
        socket.unshift(seen);
        h1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", decide);
    socket.on("error", () => socket.destroy());
  });

  const separator = options.listen.lastIndexOf(":");
  const host = options.listen.slice(0, separator).replace(/^\[(.*)\]$/, "$1");
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(Number(options.listen.slice(separator + 1)), host, () => resolve());
  });
  const bound = tcp.address() as net.AddressInfo;
  return {
    address: `${host.includes(":") ? `[${host}]` : host}:${bound.port}`,
    async close() {
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      h1.closeIdleConnections();
      h2.close();
      // Sessions still busy after 10 s are cut.
      const force = setTimeout(() => {
        h1.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      }, 10_000);
      force.unref();
      await closed;
      clearTimeout(force);
    },
  };
}

import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { Duplex } from "node:stream";
import * as tls from "node:tls";
import { minTlsVersion } from "@hft/service-kit";
import type { HttpRequest, HttpResponse } from "./http-io.js";

/** The HTTP/2 connection preface starts with these bytes; no HTTP/1.x request line does. */
const preface = Buffer.from("PRI * HTTP/2.0");

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
  /** Serve TLS with this certificate instead of cleartext; clients present none. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
}

/**
 * HTTP/2 (gRPC, Connect) and HTTP/1.1 (REST, Connect, gRPC-Web, WebSocket) on one TCP port.
 * Without TLS, Node's plaintext HTTP/2 server speaks only HTTP/2 (h2c with prior knowledge), so
 * each connection's first bytes decide: the HTTP/2 preface goes to the HTTP/2 server, anything
 * else to the HTTP/1.1 server, both getting the native socket (no JavaScript stream in between).
 * With TLS (1.2 at least), ALPN decides instead: `h2` to the HTTP/2 server, `http/1.1` or none to
 * the HTTP/1.1 server. Both servers share one request listener.
 */
export async function startOnePortServer(options: OnePortServerOptions): Promise<OnePortServer> {
  const h1 = http.createServer({ maxHeaderSize: options.maxHeaderBytes ?? 16 * 1024, keepAliveTimeout: 65_000 }, options.handler);
  const h2 = http2.createServer({ maxSessionMemory: 32 }, options.handler);
  if (options.onUpgrade) h1.on("upgrade", options.onUpgrade);
  // While draining, each HTTP/1.1 answer closes its connection, so keep-alive clients go
  // elsewhere and the drain ends when the requests in progress do.
  let draining = false;
  h1.prependListener("request", (_request, response: http.ServerResponse) => {
    if (draining) response.setHeader("connection", "close");
  });
  const sockets = new Set<net.Socket>();

  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    session.on("error", () => session.destroy());
  });

  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.setNoDelay(true);
  };
  const tcp = options.tls ? createTlsListener(options.tls, h1, h2, track) : createSniffingListener(h1, h2, track);

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
      draining = true;
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      h1.closeIdleConnections();
      // Neither server listens itself (the TCP server hands them connections): close() would
      // refuse with ERR_SERVER_NOT_RUNNING; their connections are closed here instead.
      // A GOAWAY to each HTTP/2 session: streams in progress finish, no new ones start.
      for (const session of sessions) session.close();
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

/** A TLS listener handing each connection to the server of the protocol ALPN chose. */
function createTlsListener(material: { readonly cert: Buffer; readonly key: Buffer }, h1: http.Server, h2: http2.Http2Server, track: (socket: net.Socket) => void): tls.Server {
  const listener = tls.createServer({ cert: material.cert, key: material.key, minVersion: minTlsVersion, ALPNProtocols: ["h2", "http/1.1"] }, (secure) => {
    secure.on("error", () => secure.destroy());
    (secure.alpnProtocol === "h2" ? h2 : h1).emit("connection", secure);
  });
  // The TCP sockets under the TLS ones: Nagle off, and cut at the end of the shutdown grace.
  listener.on("connection", track);
  return listener;
}

/** A cleartext listener handing each connection to the server its first bytes ask for. */
function createSniffingListener(h1: http.Server, h2: http2.Http2Server, track: (socket: net.Socket) => void): net.Server {
  return net.createServer((socket) => {
    track(socket);
    // Peek without taking: read what has arrived, give it back, and hand the socket over once
    // the bytes decide. Both servers then read those bytes again from the socket's buffer (the
    // HTTP/2 session takes them from there before reading the handle itself).
    const decide = () => {
      const head = socket.read() as Buffer | null;
      if (head === null) return;
      socket.unshift(head);
      const compared = Math.min(head.length, preface.length);
      const isH2 = head.subarray(0, compared).equals(preface.subarray(0, compared));
      if (isH2 && head.length < preface.length) return; // a prefix of the preface: wait for more
      socket.off("readable", decide);
      (isH2 ? h2 : h1).emit("connection", socket);
    };
    socket.on("readable", decide);
    socket.on("error", () => socket.destroy());
  });
}

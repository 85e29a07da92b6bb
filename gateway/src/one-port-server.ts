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

/** How long a client may take, so slow or stalled clients (slowloris) cannot hold connections. */
export interface ServerTimeouts {
  /**
   * A request's headers complete, from the connection's start or the end of the previous request;
   * also the TLS handshake and the first bytes that choose the protocol, and an HTTP/2 session's
   * first stream.
   */
  readonly headersMs: number;
  /** A whole request received, body included (not the body of a streaming RPC on HTTP/2). */
  readonly requestMs: number;
  /** An idle HTTP/1.1 keep-alive connection, or an HTTP/2 session without an open stream. */
  readonly keepAliveMs: number;
}

/** 10 s for headers, 30 s for a whole request, 65 s of idle keep-alive (past the 60 s of common load balancers). */
export const defaultServerTimeouts: ServerTimeouts = { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 65_000 };

export interface OnePortServerOptions {
  readonly listen: string;
  readonly handler: (req: HttpRequest, res: HttpResponse) => void;
  /** HTTP/1.1 upgrade requests (WebSocket). */
  readonly onUpgrade?: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;
  readonly maxHeaderBytes?: number;
  /** Serve TLS with this certificate instead of cleartext; clients present none. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /** Default {@link defaultServerTimeouts}; `headersMs` may not exceed `requestMs` (Node refuses it). */
  readonly timeouts?: ServerTimeouts;
  /** Whether the request at `path` streams its body (client and bidi streaming RPCs), so no request timeout holds it. */
  readonly streamsRequestBody?: (path: string) => boolean;
}

/**
 * HTTP/2 (gRPC, Connect) and HTTP/1.1 (REST, Connect, gRPC-Web, WebSocket) on one TCP port.
 * Without TLS, Node's plaintext HTTP/2 server speaks only HTTP/2 (h2c with prior knowledge), so
 * each connection's first bytes decide: the HTTP/2 preface goes to the HTTP/2 server, anything
 * else to the HTTP/1.1 server, both getting the native socket (no JavaScript stream in between).
 * With TLS (1.2 at least), ALPN decides instead: `h2` to the HTTP/2 server, `http/1.1` or none to
 * the HTTP/1.1 server. Both servers share one request listener.
 *
 * Every stage is bounded by {@link ServerTimeouts}: the first bytes or the TLS handshake, HTTP/1.1
 * headers and requests (Node's own timeouts, answered 408 and closed), HTTP/2 sessions that open no
 * stream, HTTP/2 requests whose body does not arrive in time (408, then the stream is reset), and
 * idle connections of both.
 */
export async function startOnePortServer(options: OnePortServerOptions): Promise<OnePortServer> {
  const timeouts = options.timeouts ?? defaultServerTimeouts;
  const h1 = http.createServer(
    {
      maxHeaderSize: options.maxHeaderBytes ?? 16 * 1024,
      keepAliveTimeout: timeouts.keepAliveMs,
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      // How often those two are checked: Node's 30 s would let a request run that much past them.
      connectionsCheckingInterval: Math.min(1_000, timeouts.headersMs),
    },
    options.handler,
  );
  // Connections reach h1 as "connection" events, never through its own listen(), and Node starts
  // tracking connections for headersTimeout and requestTimeout on "listening": without this they
  // would never fire.
  h1.emit("listening");
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
    boundSession(session, timeouts, options.streamsRequestBody ?? (() => false));
  });

  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.setNoDelay(true);
  };
  const tcp = options.tls ? createTlsListener(options.tls, h1, h2, track, timeouts.headersMs) : createSniffingListener(h1, h2, track, timeouts.headersMs);

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
      // Ends h1's connection checks; its refusal (it never listened) is expected.
      h1.close(() => undefined);
    },
  };
}

/**
 * Holds an HTTP/2 session to `timeouts`: destroyed when its first stream has not started within
 * the headers timeout, closed (GOAWAY) after the keep-alive timeout without an open stream; and each
 * stream whose request does not stream its body answered 408 and reset when that body has not
 * arrived within the request timeout. Quiet response streams are never cut.
 */
function boundSession(session: http2.ServerHttp2Session, timeouts: ServerTimeouts, streamsRequestBody: (path: string) => boolean): void {
  let openStreams = 0;
  let idle = setTimeout(() => session.destroy(), timeouts.headersMs);
  session.once("close", () => clearTimeout(idle));
  session.on("stream", (stream, headers) => {
    openStreams += 1;
    clearTimeout(idle);
    const path = String(headers[":path"] ?? "").split("?")[0] ?? "";
    // A request without a body (END_STREAM on its headers) is complete; a streaming one is never held to the deadline.
    const deadline = stream.endAfterHeaders || streamsRequestBody(path) ? undefined : setTimeout(() => cutSlowRequest(stream), timeouts.requestMs);
    if (deadline) stream.once("end", () => clearTimeout(deadline));
    stream.once("close", () => {
      clearTimeout(deadline);
      openStreams -= 1;
      if (openStreams === 0 && !session.closed && !session.destroyed) idle = setTimeout(() => session.close(), timeouts.keepAliveMs);
    });
  });
}

function cutSlowRequest(stream: http2.ServerHttp2Stream): void {
  if (stream.destroyed) return;
  if (!stream.headersSent) stream.respond({ ":status": 408, "content-length": "0" }, { endStream: true });
  stream.close(http2.constants.NGHTTP2_CANCEL);
}

/** A TLS listener handing each connection to the server of the protocol ALPN chose. */
function createTlsListener(
  material: { readonly cert: Buffer; readonly key: Buffer },
  h1: http.Server,
  h2: http2.Http2Server,
  track: (socket: net.Socket) => void,
  handshakeTimeoutMs: number,
): tls.Server {
  const options: tls.TlsOptions = { cert: material.cert, key: material.key, minVersion: minTlsVersion, ALPNProtocols: ["h2", "http/1.1"], handshakeTimeout: handshakeTimeoutMs };
  const listener = tls.createServer(options, (secure) => {
    secure.on("error", () => secure.destroy());
    (secure.alpnProtocol === "h2" ? h2 : h1).emit("connection", secure);
  });
  // The TCP sockets under the TLS ones: Nagle off, and cut at the end of the shutdown grace.
  listener.on("connection", track);
  // A failed or timed-out handshake is only reported: Node leaves the socket open unless it is destroyed here.
  listener.on("tlsClientError", (_error, socket) => socket.destroy());
  return listener;
}

/** A cleartext listener handing each connection to the server its first bytes ask for, if they come within `firstBytesMs`. */
function createSniffingListener(h1: http.Server, h2: http2.Http2Server, track: (socket: net.Socket) => void, firstBytesMs: number): net.Server {
  return net.createServer((socket) => {
    track(socket);
    const stalled = () => socket.destroy();
    socket.setTimeout(firstBytesMs, stalled);
    // Take what has arrived until the bytes decide, then give it all back and hand the socket
    // over: both servers read those bytes again from the socket's buffer (the HTTP/2 session takes
    // them from there before reading the handle itself). Nothing is given back before that: an
    // unshift emits "readable" again, so a prefix of the preface ("PRI") would spin forever.
    let head = Buffer.alloc(0);
    const decide = () => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) head = Buffer.concat([head, chunk]);
      if (head.length === 0) return;
      const compared = Math.min(head.length, preface.length);
      const isH2 = head.subarray(0, compared).equals(preface.subarray(0, compared));
      if (isH2 && head.length < preface.length) return; // a prefix of the preface: wait for more
      socket.off("readable", decide);
      socket.setTimeout(0, stalled);
      socket.unshift(head);
      (isH2 ? h2 : h1).emit("connection", socket);
    };
    socket.on("readable", decide);
    socket.on("error", () => socket.destroy());
  });
}

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import type * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { HttpRequest, HttpResponse } from "./http-io.js";
import { type OnePortServer, type OnePortServerOptions, startOnePortServer } from "./one-port-server.js";

// Short enough for a unit test; every wait below ends with the connection or stream closing, and
// the test's own timeout bounds it.
const timeouts = { headersMs: 200, requestMs: 400, keepAliveMs: 300 };

/** Answers once the whole body has arrived; `/quiet` answers headers and then nothing, forever. */
function handler(req: HttpRequest, res: HttpResponse): void {
  if (req.url === "/quiet") {
    res.writeHead(200, { "content-type": "text/plain" });
    (res as http.ServerResponse).write("streaming"); // either protocol's write; the union's overloads do not combine
    return;
  }
  let size = 0;
  req.on("data", (chunk: Buffer) => (size += chunk.length));
  req.on("end", () => res.end(`received ${size} bytes`));
}

const servers: OnePortServer[] = [];
const sockets: { destroy(): void }[] = [];
async function start(options: Partial<OnePortServerOptions> = {}): Promise<{ host: string; port: number }> {
  const server = await startOnePortServer({ listen: "127.0.0.1:0", handler, timeouts, streamsRequestBody: (path) => path === "/upload-stream", ...options });
  servers.push(server);
  const separator = server.address.lastIndexOf(":");
  return { host: server.address.slice(0, separator), port: Number(server.address.slice(separator + 1)) };
}
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A raw TCP client: what it has received, and a promise of everything received once the server closes the connection. */
function rawClient(address: { host: string; port: number }) {
  const socket = net.connect(address);
  sockets.push(socket);
  let received = "";
  socket.on("data", (chunk: Buffer) => (received += chunk.toString()));
  socket.on("error", () => undefined); // a reset is one way of being cut off
  const closed = new Promise<string>((resolve) => socket.once("close", () => resolve(received)));
  return { socket, closed, received: () => received };
}

/** Writes `bytes` one at a time, every 20 ms, until the socket closes: slower than any timeout above allows for the whole. */
function drip(socket: net.Socket, bytes: string): void {
  let next = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || socket.writableEnded) return clearInterval(timer);
    socket.write(bytes[next % bytes.length]!);
    next += 1;
  }, 20);
  socket.once("close", () => clearInterval(timer));
}

/** 408 from Node, or the connection simply closed, are both a cut; a 200 is not. */
const cutOff = (received: string) => received === "" || received.startsWith("HTTP/1.1 408");

describe("HTTP/1.1 slow clients", () => {
  it("cuts a client that sends its headers too slowly (slowloris)", async () => {
    const client = rawClient(await start());
    client.socket.write("GET /api/v1/instruments HTTP/1.1\r\nHost: gateway\r\n");
    drip(client.socket, "X-Padding: slow\r\n");
    const received = await client.closed;
    expect({ received, cut: cutOff(received) }).toMatchObject({ cut: true });
  });

  it("cuts a client that sends its body too slowly", async () => {
    const client = rawClient(await start());
    client.socket.write("POST /api/v1/orders HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{");
    drip(client.socket, '"x",');
    const received = await client.closed;
    expect({ received, cut: cutOff(received) }).toMatchObject({ cut: true });
    expect(received).not.toContain("received");
  });

  it("answers a prompt client, then closes its keep-alive connection once idle", async () => {
    const client = rawClient(await start());
    client.socket.write("POST /echo HTTP/1.1\r\nHost: gateway\r\nContent-Length: 5\r\n\r\nhello");
    const received = await client.closed;
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*received 5 bytes$/);
  });

  it("closes a connection that sends nothing at all", async () => {
    const client = rawClient(await start());
    expect(await client.closed).toBe("");
  });

  it("closes a connection that stops halfway through the HTTP/2 preface", async () => {
    const client = rawClient(await start());
    client.socket.write("PRI * HTTP/2");
    expect(await client.closed).toBe("");
  });
});

describe("HTTP/2 slow clients", () => {
  const streams: http2.ClientHttp2Stream[] = [];
  function connect(address: { host: string; port: number }) {
    const session = http2.connect(`http://${address.host}:${address.port}`);
    // Streams reset first, then a GOAWAY: Node 20's client spins when a session is destroyed with
    // a stream open after the server reset another.
    sockets.push({
      destroy() {
        for (const stream of streams.splice(0)) stream.close(http2.constants.NGHTTP2_CANCEL);
        session.close();
      },
    });
    session.on("error", () => undefined);
    const closed = new Promise<void>((resolve) => session.once("close", resolve));
    return { session, closed };
  }
  /** A request whose body is written once and then left open; resolves with its status (0 without one) once the stream closes. */
  function openRequest(session: http2.ClientHttp2Session, path: string, method = "POST") {
    const stream = session.request({ ":method": method, ":path": path }, { endStream: method === "GET" });
    streams.push(stream);
    let status = 0;
    stream.on("response", (headers) => (status = Number(headers[":status"])));
    stream.on("error", () => undefined);
    stream.resume();
    if (method !== "GET") stream.write("{");
    const closed = new Promise<{ status: number; rstCode: number }>((resolve) => stream.once("close", () => resolve({ status, rstCode: stream.rstCode ?? 0 })));
    return { stream, closed };
  }

  it("closes a session that opens no stream within the headers timeout", async () => {
    const { closed } = connect(await start());
    await closed;
  });

  it("answers 408 and resets a request whose body does not arrive in time, and leaves streaming calls on the same session alone", async () => {
    const { session } = connect(await start());
    const slow = openRequest(session, "/hft.v1.OrderService/PlaceOrder");
    const uploadStream = openRequest(session, "/upload-stream");
    const quiet = openRequest(session, "/quiet", "GET");
    const outcome = await slow.closed;
    expect(outcome).toEqual({ status: 408, rstCode: http2.constants.NGHTTP2_CANCEL });
    // Both started with the slow one, whose request timeout has passed: neither is held to it.
    expect([uploadStream.stream.closed, quiet.stream.closed, session.closed]).toEqual([false, false, false]);
  });

  it("closes a session after the keep-alive timeout once its last stream has ended", async () => {
    const { session, closed } = connect(await start());
    const done = openRequest(session, "/echo", "GET");
    expect((await done.closed).status).toBe(200);
    await closed;
  });
});

describe("TLS slow clients", () => {
  const certsScript = fileURLToPath(new URL("../../scripts/certs.sh", import.meta.url));
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "one-port-tls-"));
    execFileSync("bash", [certsScript, dir], { stdio: "pipe" });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("closes a connection that does not complete the TLS handshake within the headers timeout", async () => {
    const address = await start({ tls: { cert: readFileSync(join(dir, "gateway.crt")), key: readFileSync(join(dir, "gateway.key")) } });
    const client = rawClient(address);
    client.socket.write(Buffer.from([0x16, 0x03, 0x01])); // the start of a ClientHello, and no more
    expect(await client.closed).toBe("");
  });
});

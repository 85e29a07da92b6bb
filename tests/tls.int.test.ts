/**
 * The whole path on TLS, with certificates from scripts/certs.sh: an engine, an order service, an
 * analytics service and a gateway of this test's own, every internal hop on mutual TLS. An order
 * placed through the gateway over HTTPS is accepted; a client without a certificate, with one from
 * another CA, or in plaintext is refused by every internal listener; TLS 1.0 and 1.1 are refused
 * everywhere (a control server proves the clients really offer them). At the end, the start-up refusals:
 * development secrets in production, and a key that is not the certificate's.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import * as http2 from "node:http2";
import * as https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createKafkaClient, createMigrator, kafkaConfig, loadConfig } from "@hft/service-kit";
import { type TestDatabase, createTestDatabase } from "@hft/service-kit/testing";
import { EngineServiceClient } from "@hft/contract/grpc/hft/v1/engine_service.js";
import { OrderServiceClient } from "@hft/contract/grpc/hft/v1/order_service.js";
import { AnalyticsServiceClient } from "@hft/contract/grpc/hft/v1/analytics_service.js";
import { type AnalyticsProcess, startAnalytics } from "../analytics-service/tests/analytics-process.js";
import { type ExecutionTopic, createExecutionTopic } from "../analytics-service/tests/execution-topic.js";
import { type EngineProcess, engineBinary, freePort, startEngine } from "./support/engine-process.js";
import { bearer } from "./support/order-calls.js";
import { type OrderServiceProcess, startOrderService } from "./support/order-service-process.js";
import { type GatewayProcess, startGatewayProcess } from "./support/ready-process.js";
import { until } from "./support/until.js";

const root = fileURLToPath(new URL("..", import.meta.url));

let dir: string;
/** A file of the platform's development CA. */
const cert = (name: string) => join(dir, "certs", name);
/** A file of an unrelated CA, as an attacker or a misconfigured client would hold. */
const foreign = (name: string) => join(dir, "foreign", name);
const pem = (file: string) => readFileSync(file);

let db: TestDatabase;
let topic: ExecutionTopic;
let engine: EngineProcess;
let orders: OrderServiceProcess;
let analytics: AnalyticsProcess;
let gateway: GatewayProcess;
let account: string;

/** gRPC credentials trusting `ca`, presenting the client certificate `client` (a `*-client` stem) if given. */
function grpcCredentials(ca: string, client?: string, of: (name: string) => string = cert): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(pem(ca), client ? pem(of(`${client}.key`)) : null, client ? pem(of(`${client}.crt`)) : null);
}
const operator = () => grpcCredentials(cert("ca.crt"), "operator-client");

/** Calls a unary method with a 5 s deadline; resolves with the status code (OK or the error's). */
function statusOf<Req, Res>(
  client: grpc.Client,
  method: (request: Req, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: (error: grpc.ServiceError | null, response: Res) => void) => unknown,
  request: Req,
  metadata = new grpc.Metadata(),
): Promise<{ code: grpc.status; details: string }> {
  return new Promise((resolve) =>
    method.call(client, request, metadata, { deadline: Date.now() + 5_000 }, (error) => resolve(error ? { code: error.code, details: error.details } : { code: grpc.status.OK, details: "" })),
  );
}

/** An engine call (GetStats) with `credentials`. */
async function engineStatus(credentials: grpc.ChannelCredentials): Promise<{ code: grpc.status; details: string }> {
  const client = new EngineServiceClient(engine.address, credentials);
  try {
    return await statusOf(client, client.getStats, {});
  } finally {
    client.close();
  }
}

/** An order service call (GetOrder of an order that does not exist: NOT_FOUND means it got through) with `credentials`. */
async function orderStatus(credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions = {}): Promise<{ code: grpc.status; details: string }> {
  const client = new OrderServiceClient(orders.address, credentials, options);
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${await bearer(account)}`);
  try {
    return await statusOf(client, client.getOrder, { orderId: "999999999" }, metadata);
  } finally {
    client.close();
  }
}

/** An analytics service call (GetAnalytics) with `credentials`. */
async function analyticsStatus(credentials: grpc.ChannelCredentials): Promise<{ code: grpc.status; details: string }> {
  const client = new AnalyticsServiceClient(analytics.address, credentials);
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${await bearer(account)}`);
  try {
    return await statusOf(client, client.getAnalytics, { account: "" }, metadata);
  } finally {
    client.close();
  }
}

interface HttpsAnswer {
  readonly status: number;
  readonly body: string;
  readonly alpn: string | false | null;
}

/** One HTTP/1.1 request over TLS (no ALPN, as older clients) trusting `ca`, presenting `client` when given. */
function httpsRequest(url: string, options: { method?: string; headers?: Record<string, string>; body?: string; ca?: string; client?: string } = {}): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      {
        method: options.method ?? "GET",
        headers: options.headers,
        ca: pem(options.ca ?? cert("ca.crt")),
        ...(options.client && { cert: pem(cert(`${options.client}.crt`)), key: pem(cert(`${options.client}.key`)) }),
        agent: false,
        timeout: 5_000,
      },
      (response) => {
        let body = "";
        response.on("data", (chunk: Buffer) => (body += chunk.toString()));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body, alpn: (response.socket as tls.TLSSocket).alpnProtocol }));
      },
    );
    request.on("timeout", () => request.destroy(new Error(`no answer from ${url} within 5 s`)));
    request.on("error", reject);
    request.end(options.body);
  });
}

/** A TLS handshake (at most 1.2) with `options`; resolves with the protocol agreed, or the error that ended it. */
function handshake(address: string, options: tls.ConnectionOptions): Promise<{ protocol: string | null } | { error: string }> {
  const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))];
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, ca: pem(cert("ca.crt")), ...options });
    socket.setTimeout(5_000, () => socket.destroy(new Error("handshake timed out")));
    // Up to TLS 1.2 the server has checked the client's certificate when the handshake completes.
    socket.once("secureConnect", () => {
      resolve({ protocol: socket.getProtocol() });
      socket.destroy();
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
  });
}

/** A client that offers TLS 1.1 only (OpenSSL 3 allows it at security level 0), with the operator's certificate. */
const tls11 = () => ({ minVersion: "TLSv1.1", maxVersion: "TLSv1.1", ciphers: "DEFAULT@SECLEVEL=0", cert: pem(cert("operator-client.crt")), key: pem(cert("operator-client.key")) }) as const;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hft-tls-"));
  execFileSync("bash", [join(root, "scripts/certs.sh"), join(dir, "certs")], { stdio: "pipe" });
  execFileSync("bash", [join(root, "scripts/certs.sh"), join(dir, "foreign")], { stdio: "pipe" });
  const suffix = randomBytes(4).toString("hex");
  account = `tls-alice-${suffix}`;

  db = await createTestDatabase("tls");
  await createMigrator({ pool: db.pool, directory: join(root, "migrations") }).up();
  await db.pool.query("INSERT INTO accounts (name) VALUES ($1)", [account]);
  topic = await createExecutionTopic(createKafkaClient({ brokers: loadConfig(kafkaConfig).KAFKA_BROKERS, clientId: `tls-test-${suffix}` }), 1);

  engine = await startEngine({
    args: [`--tls-cert=${cert("engine.crt")}`, `--tls-key=${cert("engine.key")}`, `--tls-client-ca=${cert("ca.crt")}`],
    credentials: operator(),
  });
  orders = await startOrderService({
    env: {
      DATABASE_URL: db.url,
      ENGINE_SHARDS: `default=${engine.address}@1`,
      PROJECTION_LOCK_KEY: String(randomInt(1_000_000, 2_000_000_000)),
      REDIS_KEY_PREFIX: `hft-tls:${suffix}:`,
      TLS_CERT_FILE: cert("order-service.crt"),
      TLS_KEY_FILE: cert("order-service.key"),
      TLS_CLIENT_CA_FILE: cert("ca.crt"),
      TLS_CA_FILE: cert("ca.crt"),
      TLS_CLIENT_CERT_FILE: cert("order-service-client.crt"),
      TLS_CLIENT_KEY_FILE: cert("order-service-client.key"),
    },
    credentials: operator(),
  });
  // The order service reached the engine over mutual TLS: it defined the instruments there.
  await orders.waitForLog((line) => line.msg === "instruments defined in the engine");
  analytics = await startAnalytics({
    DATABASE_URL: db.url,
    ANALYTICS_TOPIC: topic.name,
    ANALYTICS_GROUP_ID: `tls-${randomUUID()}`,
    TLS_CERT_FILE: cert("analytics-service.crt"),
    TLS_KEY_FILE: cert("analytics-service.key"),
    TLS_CLIENT_CA_FILE: cert("ca.crt"),
  });
  gateway = await startGatewayProcess(
    { orders: orders.address, analytics: analytics.address },
    {
      TLS_CERT_FILE: cert("gateway.crt"),
      TLS_KEY_FILE: cert("gateway.key"),
      TLS_CA_FILE: cert("ca.crt"),
      TLS_CLIENT_CERT_FILE: cert("gateway-client.crt"),
      TLS_CLIENT_KEY_FILE: cert("gateway-client.key"),
    },
  );
}, 180_000);

afterAll(async () => {
  if (gateway && gateway.child.exitCode === null) {
    const exited = new Promise((resolve) => gateway.child.once("exit", resolve));
    gateway.child.kill("SIGTERM");
    await exited;
  }
  await analytics?.stop("SIGTERM");
  await orders?.stop("SIGTERM");
  await engine?.stop("SIGTERM");
  if (engine) await rm(engine.dataDir, { recursive: true, force: true });
  await topic?.delete();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the order path on mutual TLS", () => {
  it("accepts an order placed through the gateway over HTTPS (HTTP/1.1), and reads it back over HTTP/2 chosen by ALPN", async () => {
    const headers = { authorization: `Bearer ${await bearer(account)}`, "content-type": "application/json" };
    const body = JSON.stringify({ clientOrderId: `tls-${randomUUID().slice(0, 20)}`, symbol: "AAPL", side: "SIDE_BUY", type: "ORDER_TYPE_LIMIT", timeInForce: "TIME_IN_FORCE_GTC", price: "100.00", quantity: "1" });
    const placed = await httpsRequest(`https://${gateway.address}/api/v1/orders`, { method: "POST", headers, body });
    expect(placed.alpn).toBe(false); // no ALPN: HTTP/1.1
    expect(placed.status, placed.body).toBe(200);
    const order = (JSON.parse(placed.body) as { order: { orderId: string; status: string; symbol: string } }).order;
    expect(order).toMatchObject({ status: "ORDER_STATUS_NEW", symbol: "AAPL" });

    // Connect over HTTP/2, which the client gets only by ALPN on the TLS port.
    const session = http2.connect(`https://${gateway.address}`, { ca: pem(cert("ca.crt")) });
    try {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = session.request({ ":method": "POST", ":path": "/hft.v1.OrderService/GetOrder", ...headers });
        let text = "";
        let status = 0;
        stream.on("response", (h) => (status = Number(h[":status"])));
        stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
        stream.on("end", () => resolve({ status, body: text }));
        stream.on("error", reject);
        stream.end(JSON.stringify({ orderId: order.orderId }));
      });
      expect(session.alpnProtocol).toBe("h2");
      expect(answer.status, answer.body).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ order: { orderId: order.orderId, status: "ORDER_STATUS_NEW" } });
    } finally {
      session.close();
    }
  });

  it("streams the account's order updates over a WebSocket on TLS (wss)", async () => {
    const socket = new WebSocket(`wss://${gateway.address}/ws`, { ca: pem(cert("ca.crt")) });
    const messages: { type: string; [field: string]: unknown }[] = [];
    socket.on("message", (data: Buffer) => messages.push(JSON.parse(data.toString()) as (typeof messages)[number]));
    try {
      await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
      socket.send(JSON.stringify({ type: "auth", token: await bearer(account) }));
      socket.send(JSON.stringify({ type: "subscribe", channel: "orders", fromSequence: "1" }));
      await until(() => messages.some((m) => m.type === "order_update" || m.type === "error"), "an order update on the WebSocket");
      expect(messages[0]).toMatchObject({ type: "authenticated", account });
      expect(messages.find((m) => m.type === "order_update" || m.type === "error")).toMatchObject({ type: "order_update", data: { order: { account, symbol: "AAPL" } } });
    } finally {
      socket.close();
    }
  });

  it("reaches the analytics service through the gateway over mutual TLS", async () => {
    const answer = await httpsRequest(`https://${gateway.address}/api/analytics`, { headers: { authorization: `Bearer ${await bearer(account)}` } });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ account });
  });

  it("reports every backend up on /health, checked over mutual TLS", async () => {
    const answer = await httpsRequest(`https://${gateway.address}/health`);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ status: "ok" });
  });
});

describe("an internal listener refuses clients without a valid certificate", () => {
  it("the engine: answers a client certificate of its CA, refuses none and another CA's", async () => {
    expect((await engineStatus(operator())).code).toBe(grpc.status.OK);
    expect((await engineStatus(grpcCredentials(cert("ca.crt")))).code).toBe(grpc.status.UNAVAILABLE);
    expect((await engineStatus(grpcCredentials(cert("ca.crt"), "operator-client", foreign))).code).toBe(grpc.status.UNAVAILABLE);
  });

  it("the order service: answers a client certificate of its CA, refuses none and another CA's", async () => {
    expect((await orderStatus(operator())).code).toBe(grpc.status.NOT_FOUND);
    expect((await orderStatus(grpcCredentials(cert("ca.crt")))).code).toBe(grpc.status.UNAVAILABLE);
    expect((await orderStatus(grpcCredentials(cert("ca.crt"), "operator-client", foreign))).code).toBe(grpc.status.UNAVAILABLE);
  });

  it("the analytics service: answers a client certificate of its CA, refuses none and another CA's", async () => {
    expect((await analyticsStatus(operator())).code).toBe(grpc.status.OK);
    expect((await analyticsStatus(grpcCredentials(cert("ca.crt")))).code).toBe(grpc.status.UNAVAILABLE);
    expect((await analyticsStatus(grpcCredentials(cert("ca.crt"), "operator-client", foreign))).code).toBe(grpc.status.UNAVAILABLE);
  });

  it("the metrics listeners: serve a scraper with a client certificate, refuse one without", async () => {
    const orderMetrics = await httpsRequest(`https://${orders.metricsAddress}/metrics`, { client: "prometheus-client" });
    expect(orderMetrics.status).toBe(200);
    expect(orderMetrics.body).toContain("grpc_server_handled_total");
    const engineMetrics = await httpsRequest(engine.metricsUrl.replace(/^http:/, "https:"), { client: "prometheus-client" });
    expect(engineMetrics.status).toBe(200);
    expect(engineMetrics.body).toContain("hft_engine_commands_total");
    await expect(httpsRequest(`https://${orders.metricsAddress}/metrics`)).rejects.toThrow();
    await expect(httpsRequest(engine.metricsUrl.replace(/^http:/, "https:"))).rejects.toThrow();
  });
});

describe("clients verify the servers", () => {
  it("refuses a server whose certificate another CA signed", async () => {
    expect((await orderStatus(grpcCredentials(foreign("ca.crt"), "operator-client"))).code).toBe(grpc.status.UNAVAILABLE);
    await expect(httpsRequest(`https://${gateway.address}/live`, { ca: foreign("ca.crt") })).rejects.toThrow(/self-signed certificate in certificate chain|unable to verify/);
  });

  it("refuses a server whose certificate does not name the host dialed", async () => {
    // The order service's certificate names localhost, 127.0.0.1 and order-service, not engine.
    expect((await orderStatus(operator(), { "grpc.ssl_target_name_override": "order-service" })).code).toBe(grpc.status.NOT_FOUND);
    const misnamed = await orderStatus(operator(), { "grpc.ssl_target_name_override": "engine" });
    expect(misnamed.code).toBe(grpc.status.UNAVAILABLE);
    expect(misnamed.details).toMatch(/Hostname\/IP does not match certificate's altnames/);
  });
});

describe("plaintext to a TLS listener", () => {
  it("fails on the engine, the order service, the analytics service, the gateway and the metrics listeners", async () => {
    expect((await engineStatus(grpc.credentials.createInsecure())).code).toBe(grpc.status.UNAVAILABLE);
    expect((await orderStatus(grpc.credentials.createInsecure())).code).toBe(grpc.status.UNAVAILABLE);
    expect((await analyticsStatus(grpc.credentials.createInsecure())).code).toBe(grpc.status.UNAVAILABLE);
    await expect(fetch(`http://${gateway.address}/live`)).rejects.toThrow();
    await expect(fetch(`http://${orders.metricsAddress}/metrics`)).rejects.toThrow();
    await expect(fetch(engine.metricsUrl)).rejects.toThrow();
  });
});

describe("TLS 1.2 is the minimum", () => {
  it("the TLS 1.0 and 1.1 clients are real: a server that allows them agrees to each", async () => {
    const server = tls.createServer({ cert: pem(cert("gateway.crt")), key: pem(cert("gateway.key")), minVersion: "TLSv1", ciphers: "DEFAULT@SECLEVEL=0" }, (socket) => socket.end("hello"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const address = `127.0.0.1:${(server.address() as { port: number }).port}`;
      expect(await handshake(address, tls11())).toEqual({ protocol: "TLSv1.1" });
      expect(await handshake(address, { ...tls11(), minVersion: "TLSv1", maxVersion: "TLSv1" })).toEqual({ protocol: "TLSv1" });
    } finally {
      server.close();
    }
  });

  it("every listener refuses TLS 1.1 and agrees to TLS 1.2", async () => {
    const listeners = {
      gateway: gateway.address,
      engine: engine.address,
      "engine metrics": engine.metricsUrl.replace(/^http:\/\/|\/metrics$/g, ""),
      "order service": orders.address,
      "order service metrics": orders.metricsAddress,
      "analytics service": analytics.address,
      "analytics service metrics": analytics.metricsAddress,
    };
    const tls12 = { ...tls11(), minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: undefined, ALPNProtocols: ["h2", "http/1.1"] } as const;
    const tls10 = { ...tls11(), minVersion: "TLSv1", maxVersion: "TLSv1" } as const;
    for (const [name, address] of Object.entries(listeners)) {
      expect({ name, outcome: await handshake(address, tls10) }).toMatchObject({ name, outcome: { error: expect.any(String) } });
      expect({ name, outcome: await handshake(address, tls11()) }).toMatchObject({ name, outcome: { error: expect.any(String) } });
      expect({ name, outcome: await handshake(address, tls12) }).toEqual({ name, outcome: { protocol: "TLSv1.2" } });
    }
  });
});

describe("refusals at start", () => {
  /** Runs the order service's entry point with `env` over the test's environment; resolves with its exit code and output. */
  async function runOrderService(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
    const child = spawn(process.execPath, ["--conditions=@hft/source", "--import", "tsx", "order-service/src/main.ts"], {
      cwd: root,
      env: { ...process.env, ORDER_SERVICE_LISTEN: `127.0.0.1:${await freePort()}`, ORDER_SERVICE_METRICS_LISTEN: `127.0.0.1:${await freePort()}`, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    return { code, output };
  }

  it("the order service will not start in production on .env.example's development secrets", async () => {
    const { code, output } = await runOrderService({ NODE_ENV: "production" });
    expect(code).toBe(2);
    expect(output).toContain("hft-order-service: invalid configuration:");
    expect(output).toMatch(/DATABASE_URL: the URL's password is the local development one/);
    expect(output).toMatch(/AUTH_HS256_SECRET: the local development value from \.env\.example is refused in production/);
    expect(output).toMatch(/PAGE_TOKEN_KEY: the local development value from \.env\.example is refused in production/);
    expect(output).not.toContain(process.env.PAGE_TOKEN_KEY!);
  });

  it("the order service will not start with a key that is not its certificate's", async () => {
    const { code, output } = await runOrderService({ TLS_CERT_FILE: cert("order-service.crt"), TLS_KEY_FILE: cert("gateway.key") });
    expect(code).toBe(2);
    expect(output).toContain(`TLS_KEY_FILE: the key in "${cert("gateway.key")}" is not the private key of the certificate in TLS_CERT_FILE "${cert("order-service.crt")}"`);
  });

  it("the engine will not start with a key that is not its certificate's", async () => {
    const child = spawn(engineBinary, [`--listen=127.0.0.1:${await freePort()}`, `--data-dir=${join(dir, "refused-engine")}`, `--tls-cert=${cert("engine.crt")}`, `--tls-key=${cert("gateway.key")}`], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(2);
    expect(output).toContain(`hft-engine: invalid configuration: --tls-key: the key in "${cert("gateway.key")}" is not the private key of the certificate in --tls-cert "${cert("engine.crt")}"`);
  });
});

/**
 * The SDKs' examples (sdk/ts, sdk/go, sdk/python) against a real platform behind a gateway: each
 * places an order, sees it accepted on the order-update stream, cancels it and sees it cancelled,
 * and the order is really cancelled when read back through the gateway. A forged token makes each
 * exit 1 naming UNAUTHENTICATED.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrderStatus, type PlatformClients, createNodeClients } from "@hft/sdk/node";
import { type Platform, startPlatform } from "../gateway/tests/platform.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);
// Built here (Go's own cache makes a rebuild of unchanged sources quick), run from here.
const goExample = `${root}.run/sdk-examples/place-and-cancel`;
const pythonVenv = `${root}.deps/sdk-python-venv/bin/python`;

type Sdk = "ts" | "go" | "python";
const commands: Record<Sdk, readonly string[]> = {
  ts: [process.execPath, "--conditions=@hft/source", "--import", "tsx", "sdk/ts/examples/place-and-cancel.ts"],
  go: [goExample],
  python: [pythonVenv, "sdk/python/examples/place_and_cancel.py"],
};

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let platform: Platform;
let gatewayUrl: string;
let token: string;
let reader: PlatformClients;

/** Runs one example to its end (30 s at most), with its exit code and output whatever the code. */
async function runExample(sdk: Sdk, withToken: string): Promise<Outcome> {
  const [command, ...args] = commands[sdk];
  try {
    const { stdout, stderr } = await run(command!, [...args, "--gateway", gatewayUrl, "--token", withToken, "--timeout-seconds", "20"], { cwd: root, timeout: 30_000, killSignal: "SIGKILL" });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | string; signal?: string; stdout?: string; stderr?: string };
    if (typeof failed.code !== "number") throw new Error(`${sdk} example did not run to its end (${failed.code ?? failed.signal}): ${failed.stderr ?? ""}`, { cause: error });
    return { code: failed.code, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

beforeAll(async () => {
  if (!existsSync(pythonVenv)) throw new Error(`${pythonVenv} is missing: run scripts/install-tools.sh`);
  if (!existsSync(`${root}sdk/go/gen/hft/v1/order_service.pb.go`)) throw new Error("sdk/go/gen is missing: run npm run generate");
  const [started] = await Promise.all([
    startPlatform(),
    run("go", ["build", "-trimpath", "-o", goExample, "./examples/place-and-cancel"], { cwd: `${root}sdk/go`, timeout: 110_000 }),
  ]);
  platform = started;
  gatewayUrl = (await platform.startGateway()).url;
  token = await platform.token(platform.accounts.alice, "trader");
  reader = createNodeClients({ baseUrl: gatewayUrl, token });
});
afterAll(async () => platform?.stop());

describe("the SDK examples", () => {
  it.each(["ts", "go", "python"] as const)("%s: places, sees accepted, cancels and sees cancelled the same order", async (sdk) => {
    const outcome = await runExample(sdk, token);
    expect(outcome, outcome.stderr).toMatchObject({ code: 0 });
    const lines = outcome.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]!) as Record<string, string>;
    expect(summary).toEqual({
      sdk,
      order_id: expect.stringMatching(/^[0-9]+$/),
      client_order_id: expect.stringMatching(new RegExp(`^sdk-${sdk}-[0-9a-f]{8}$`)),
      placed: "ORDER_STATUS_NEW",
      accepted: "ORDER_STATUS_NEW",
      cancelled: "ORDER_STATUS_CANCELLED",
    });

    const { order } = await reader.orders.getOrder({ orderId: summary.order_id! });
    expect({ status: order?.status, clientOrderId: order?.clientOrderId, account: order?.account }).toEqual({
      status: OrderStatus.CANCELLED,
      clientOrderId: summary.client_order_id,
      account: platform.accounts.alice,
    });
  });

  it.each(["ts", "go", "python"] as const)("%s: exits 1 naming UNAUTHENTICATED for a token signed with another key", async (sdk) => {
    const forged = await platform.token(platform.accounts.alice, "trader", { secret: "not-the-gateway-secret-0123456789abcdef" });
    const outcome = await runExample(sdk, forged);
    expect({ code: outcome.code, stdout: outcome.stdout }).toEqual({ code: 1, stdout: "" });
    expect(outcome.stderr).toMatch(new RegExp(`^place-and-cancel \\(${sdk}\\): PlaceOrder failed: UNAUTHENTICATED: `));
  });
});

/**
 * The web console served by a gateway in front of the real backends, from a build of the test's
 * own (a temp directory as GATEWAY_CONSOLE_DIR): the page with the console's CSP, its assets, and
 * the API, the viewer and the 404s beside it answering as before; and a gateway with no build.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Platform, startPlatform } from "./platform.js";

const consolePolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const apiPolicy = "default-src 'none'; frame-ancestors 'none'";
const page = '<!doctype html><link rel="stylesheet" href="/assets/index-9b8c7d.css"><script type="module" src="/assets/index-3f2a1c.js"></script><div id="root"></div>';
const script = "document.getElementById('root').textContent = 'console';";

let platform: Platform;
let dist: string;
let url: string;

beforeAll(async () => {
  dist = await mkdtemp(join(tmpdir(), "hft-console-dist-"));
  await mkdir(join(dist, "assets"));
  await writeFile(join(dist, "index.html"), page);
  await writeFile(join(dist, "favicon.svg"), "<svg/>");
  await writeFile(join(dist, "assets/index-3f2a1c.js"), script);
  await writeFile(join(dist, "assets/index-9b8c7d.css"), "body{}");
  platform = await startPlatform();
  url = (await platform.startGateway({ GATEWAY_CONSOLE_DIR: dist })).url;
});
afterAll(async () => {
  await platform?.stop();
  await rm(dist, { recursive: true, force: true });
});

describe("the web console at /", () => {
  it("serves the page with the console's CSP and the other security headers", async () => {
    const response = await fetch(`${url}/`);
    expect([response.status, response.headers.get("content-type"), response.headers.get("cache-control"), await response.text()]).toEqual([200, "text/html; charset=utf-8", "no-cache", page]);
    expect([response.headers.get("content-security-policy"), response.headers.get("x-frame-options"), response.headers.get("x-content-type-options")]).toEqual([consolePolicy, "DENY", "nosniff"]);
  });

  it("serves its assets' bytes, and its top-level files under the policy that lets nothing run", async () => {
    const asset = await fetch(`${url}/assets/index-3f2a1c.js`);
    expect([asset.status, asset.headers.get("content-type"), asset.headers.get("cache-control"), asset.headers.get("content-security-policy"), await asset.text()]).toEqual([
      200,
      "text/javascript; charset=utf-8",
      "public, max-age=31536000, immutable",
      consolePolicy,
      script,
    ]);
    const icon = await fetch(`${url}/favicon.svg`);
    expect([icon.status, icon.headers.get("content-type"), icon.headers.get("content-security-policy")]).toEqual([200, "image/svg+xml", apiPolicy]);
  });

  it("answers an unknown asset, a traversal and a POST like any unknown route", async () => {
    for (const [method, path] of [["GET", "/assets/missing-000000.js"], ["GET", "/assets/%2e%2e%2fpackage.json"], ["GET", "/assets/"], ["POST", "/"]]) {
      const response = await fetch(`${url}${path}`, { method });
      expect([path, response.status, response.headers.get("hft-reason")]).toEqual([path, 404, "ROUTE_NOT_FOUND"]);
    }
  });

  it("leaves the API, the probes and the viewer as they were", async () => {
    const live = await fetch(`${url}/live`);
    expect([live.status, await live.json(), live.headers.get("content-security-policy")]).toEqual([200, { status: "ok" }, apiPolicy]);
    const token = await platform.token(platform.accounts.alice, "trader");
    const instruments = await fetch(`${url}/api/v1/instruments`, { headers: { authorization: `Bearer ${token}` } });
    expect([instruments.status, instruments.headers.get("content-security-policy")]).toEqual([200, apiPolicy]);
    const docs = await fetch(`${url}/docs`);
    expect([docs.status, docs.headers.get("content-security-policy")]).toEqual([
      200,
      "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
    ]);
  });

  it("labels the page / and every asset /assets in the metrics", async () => {
    await fetch(`${url}/assets/index-9b8c7d.css`);
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/hft_gateway_http_request_duration_seconds_count\{[^}]*route="\/"[^}]*status="200"/);
    expect(text).toMatch(/hft_gateway_http_request_duration_seconds_count\{[^}]*route="\/assets"[^}]*status="200"/);
    expect(text).not.toMatch(/route="\/assets\/|route="\/favicon/);
  });

  it("answers 404 CONSOLE_NOT_BUILT at / from a gateway without a build", async () => {
    const missing = join(dist, "not-built");
    const gateway = await platform.startGateway({ GATEWAY_CONSOLE_DIR: missing });
    const response = await fetch(`${gateway.url}/`);
    const body = (await response.json()) as { message: string; reason: string };
    expect([response.status, body.reason]).toEqual([404, "CONSOLE_NOT_BUILT"]);
    expect(body.message).toContain(missing);
    expect(body.message).toContain("npm run build -w @hft/console");
    expect((await fetch(`${gateway.url}/live`)).status).toBe(200);
  });
});

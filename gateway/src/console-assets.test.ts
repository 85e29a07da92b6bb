import { type Server, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleRouteOf, createConsoleAssets } from "./console-assets.js";

const page = '<!doctype html><script type="module" src="/assets/index-3f2a1c.js"></script>';
const script = "console.log('console');";

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/**
 * A server that hands the raw request path to `serveConsole` (no URL normalization, so `..` and
 * encoded slashes arrive as sent) and answers 404 with no body when it returns false.
 */
async function serverFor(directory: string) {
  const serveConsole = createConsoleAssets(directory);
  const server: Server = createServer((req, res) => {
    void serveConsole(req.url!, res).then((served) => {
      if (!served) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const ask = (path: string, method = "GET") =>
    new Promise<Answer>((resolve, reject) => {
      request({ host: "127.0.0.1", port, path, method }, (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      })
        .on("error", reject)
        .end();
    });
  return { ask, close: () => new Promise((resolve) => server.close(resolve)) };
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "hft-console-assets-"));
});
afterAll(async () => rm(root, { recursive: true, force: true }));

/** A console build in a folder of its own under the test's temp directory. */
async function buildAt(name: string, files: Record<string, string>): Promise<string> {
  const directory = join(root, name);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(directory, path, ".."), { recursive: true });
    await writeFile(join(directory, path), content);
  }
  return directory;
}

describe("createConsoleAssets", () => {
  let server: Awaited<ReturnType<typeof serverFor>>;
  beforeAll(async () => {
    const dist = await buildAt("dist", {
      "index.html": page,
      "favicon.svg": "<svg/>",
      "assets/index-3f2a1c.js": script,
      "assets/index-9b8c7d.css": "body{}",
      "assets/font-1a2b3c.woff2": "font",
      "assets/data-4d5e6f.bin": "bytes",
      "assets/nested/deeper.js": "nested",
    });
    // Outside the build: what a traversal would reach.
    await writeFile(join(root, "package.json"), "{}");
    await writeFile(join(dist, "..", "secret.txt"), "secret");
    server = await serverFor(dist);
  });
  afterAll(async () => server.close());

  it("serves the page at / and /index.html, revalidated on every visit", async () => {
    for (const path of ["/", "/index.html"]) {
      const answer = await server.ask(path);
      expect([answer.status, answer.headers["content-type"], answer.headers["cache-control"], answer.body]).toEqual([200, "text/html; charset=utf-8", "no-cache", page]);
    }
  });

  it("serves the hashed assets with their types, cached for good", async () => {
    for (const [path, type] of [
      ["/assets/index-3f2a1c.js", "text/javascript; charset=utf-8"],
      ["/assets/index-9b8c7d.css", "text/css; charset=utf-8"],
      ["/assets/font-1a2b3c.woff2", "font/woff2"],
      ["/assets/data-4d5e6f.bin", "application/octet-stream"],
    ]) {
      const answer = await server.ask(path!);
      expect([answer.status, answer.headers["content-type"], answer.headers["cache-control"]]).toEqual([200, type, "public, max-age=31536000, immutable"]);
    }
    expect((await server.ask("/assets/index-3f2a1c.js")).body).toBe(script);
  });

  it("serves the build's other top-level files for an hour", async () => {
    const answer = await server.ask("/favicon.svg");
    expect([answer.status, answer.headers["content-type"], answer.headers["cache-control"], answer.body]).toEqual([200, "image/svg+xml", "public, max-age=3600", "<svg/>"]);
  });

  it("answers HEAD with the headers and length and no body", async () => {
    const answer = await server.ask("/assets/index-3f2a1c.js", "HEAD");
    expect([answer.status, answer.headers["content-type"], answer.headers["content-length"], answer.body]).toEqual([200, "text/javascript; charset=utf-8", String(script.length), ""]);
  });

  it("serves nothing but the files it listed: no traversal, encoded slashes, folders or unknown names", async () => {
    for (const path of ["/assets/../package.json", "/../secret.txt", "/assets/%2e%2e%2fx", "/assets/..%2f..%2fpackage.json", "/assets/nested/deeper.js", "/assets/nested", "/assets/", "/assets", "/assets/missing-000000.js", "/index.html/", "/nothing.txt"]) {
      expect([path, (await server.ask(path)).status]).toEqual([path, 404]);
    }
  });

  it("keeps the files it read at the first request: a rebuild is served after a restart", async () => {
    const dist = await buildAt("kept", { "index.html": "first" });
    const kept = await serverFor(dist);
    expect((await kept.ask("/")).body).toBe("first");
    await writeFile(join(dist, "index.html"), "second");
    await writeFile(join(dist, "late.txt"), "late");
    expect([(await kept.ask("/")).body, (await kept.ask("/late.txt")).status]).toEqual(["first", 404]);
    await kept.close();
  });
});

describe("createConsoleAssets without a build", () => {
  it("answers / with 404 CONSOLE_NOT_BUILT naming the directory and the build command, and leaves assets to the caller", async () => {
    const missing = join(root, "never-built");
    const server = await serverFor(missing);
    const answer = await server.ask("/");
    expect([answer.status, answer.headers["hft-reason"], answer.headers["content-type"]]).toEqual([404, "CONSOLE_NOT_BUILT", "application/json; charset=utf-8"]);
    expect(JSON.parse(answer.body)).toEqual({
      code: "not_found",
      message: `the web console is not built: ${join(missing, "index.html")} is missing; build it with \`npm run build -w @hft/console\` (or set GATEWAY_CONSOLE_DIR)`,
      details: [],
      reason: "CONSOLE_NOT_BUILT",
    });
    expect((await server.ask("/assets/index-3f2a1c.js")).body).toBe("");
    await server.close();
  });

  it("treats a directory without index.html as not built, and serves a build made while running", async () => {
    const dist = await buildAt("late", { "assets/index-3f2a1c.js": script });
    const server = await serverFor(dist);
    expect((await server.ask("/index.html")).headers["hft-reason"]).toBe("CONSOLE_NOT_BUILT");
    expect((await server.ask("/assets/index-3f2a1c.js")).status).toBe(404);
    await writeFile(join(dist, "index.html"), page);
    expect([(await server.ask("/")).status, (await server.ask("/assets/index-3f2a1c.js")).body]).toEqual([200, script]);
    await server.close();
  });
});

describe("consoleRouteOf", () => {
  it("labels the page /, every other file /assets, and nothing else", () => {
    expect(["/", "/index.html", "/assets/index-3f2a1c.js", "/assets/../x", "/favicon.svg", "/robots.txt", "/openapi.json", "/live", "/api/v1/orders", "/hft.v1.OrderService/GetOrder", "/wp-login.php"].map(consoleRouteOf)).toEqual([
      "/", "/", "/assets", "/assets", "/assets", "/assets", "/assets", undefined, undefined, undefined, undefined,
    ]);
  });
});

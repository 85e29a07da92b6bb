import { readFile, readdir } from "node:fs/promises";
import { extname, join } from "node:path";
import { Code } from "@connectrpc/connect";
import { GatewayError } from "./gateway-error.js";
import { type HttpResponse, writeError } from "./http-io.js";

/** Content types by extension; any other file is served as application/octet-stream. */
const contentTypes: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".woff2": "font/woff2",
  ".map": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

// The page names the current build's assets, so the browser revalidates it on every visit. An
// asset's name carries its content's hash: a name never changes content. The other top-level
// files (favicon.svg) keep their names from one build to the next.
const pageCaching = "no-cache";
const assetCaching = "public, max-age=31536000, immutable";
const topLevelCaching = "public, max-age=3600";

interface ConsoleFile {
  readonly body: Buffer;
  readonly type: string;
  readonly caching: string;
}

/**
 * The metrics label of a console path: "/" for the page, "/assets" for any other file it may
 * serve (under /assets/, or a top-level name with an extension it serves), so the label set stays
 * bounded whatever is asked. The gateway's own paths (/openapi.json) must be matched first.
 */
export function consoleRouteOf(path: string): "/" | "/assets" | undefined {
  if (path === "/" || path === "/index.html") return "/";
  if (path.startsWith("/assets/")) return "/assets";
  if (/^\/[^/]+$/.test(path) && Object.hasOwn(contentTypes, extname(path))) return "/assets";
  return undefined;
}

/**
 * Serves the web console's build (`npm run build -w @hft/console`) from `directory`: the page at
 * / and /index.html, the files of its assets/ folder under /assets/, and its other top-level
 * files. Returns false for a path it does not serve. The request path is only ever looked up in
 * the list of files the directory held, never joined onto it. The directory is read whole at the
 * first request that finds its index.html, and kept: a rebuild is served after a restart. Until
 * then / answers 404 CONSOLE_NOT_BUILT, looking again at each request.
 */
export function createConsoleAssets(directory: string) {
  let loading: Promise<ReadonlyMap<string, ConsoleFile> | undefined> | undefined;

  async function load(): Promise<ReadonlyMap<string, ConsoleFile> | undefined> {
    const topLevel = await listFiles(directory);
    if (!topLevel?.includes("index.html")) return undefined;
    const files = new Map<string, ConsoleFile>();
    const add = async (requestPath: string, file: string, caching: string) =>
      files.set(requestPath, { body: await readFile(join(directory, file)), type: contentTypes[extname(file)] ?? "application/octet-stream", caching });
    for (const name of topLevel) await add(`/${encodeURIComponent(name)}`, name, name === "index.html" ? pageCaching : topLevelCaching);
    for (const name of (await listFiles(join(directory, "assets"))) ?? []) await add(`/assets/${encodeURIComponent(name)}`, join("assets", name), assetCaching);
    files.set("/", files.get("/index.html")!);
    return files;
  }

  async function filesOnce(): Promise<ReadonlyMap<string, ConsoleFile> | undefined> {
    let files: ReadonlyMap<string, ConsoleFile> | undefined;
    try {
      files = await (loading ??= load());
    } finally {
      // Not built yet (or unreadable): the next request looks again, so a build made while the
      // gateway runs is picked up.
      if (!files) loading = undefined;
    }
    return files;
  }

  return async function serveConsole(path: string, res: HttpResponse): Promise<boolean> {
    const files = await filesOnce();
    if (!files) {
      if (consoleRouteOf(path) !== "/") return false;
      writeError(res, new GatewayError(Code.NotFound, "CONSOLE_NOT_BUILT", `the web console is not built: ${join(directory, "index.html")} is missing; build it with \`npm run build -w @hft/console\` (or set GATEWAY_CONSOLE_DIR)`));
      return true;
    }
    const file = files.get(path);
    if (!file) return false;
    res.setHeader("content-type", file.type);
    res.setHeader("content-length", file.body.length);
    res.setHeader("cache-control", file.caching);
    res.statusCode = 200;
    res.end(file.body);
    return true;
  };
}

/** The names of the regular files in `directory`, or undefined when it does not exist. */
async function listFiles(directory: string): Promise<string[] | undefined> {
  try {
    const entries = await readdir(directory, { withFileTypes: true });
    return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw error;
  }
}

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { HttpResponse } from "./http-io.js";

/** The installed swagger-ui-dist package's folder: the viewer is served from it, never from a CDN. */
const swaggerUiDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

/** The files of swagger-ui-dist the page loads, with their types; nothing else is served. */
const assets: Readonly<Record<string, string>> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "index.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
  "favicon-16x16.png": "image/png",
};

const page = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>HFT platform API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="stylesheet" href="/docs/index.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

// A file of its own, not an inline script: the page's CSP runs only scripts from the gateway.
const init = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout"
});
`;

/**
 * Serves the interactive API viewer at /docs (swagger-ui on /openapi.json). Returns false for a
 * path it does not serve. Files are read once and kept: the package does not change while running.
 */
export function createDocsViewer() {
  const cache = new Map<string, Buffer>();
  return async function serveDocs(path: string, res: HttpResponse): Promise<boolean> {
    let body: Buffer | string;
    let type: string;
    if (path === "/docs" || path === "/docs/") {
      [body, type] = [page, "text/html; charset=utf-8"];
    } else if (path === "/docs/init.js") {
      [body, type] = [init, "text/javascript; charset=utf-8"];
    } else {
      const name = path.slice("/docs/".length);
      const assetType = assets[name];
      if (!path.startsWith("/docs/") || assetType === undefined) return false;
      let content = cache.get(name);
      if (!content) cache.set(name, (content = await readFile(join(swaggerUiDir, name))));
      [body, type] = [content, assetType];
    }
    res.setHeader("content-type", type);
    res.setHeader("cache-control", "public, max-age=3600");
    res.statusCode = 200;
    res.end(body);
    return true;
  };
}

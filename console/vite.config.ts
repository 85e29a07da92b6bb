import { defineConfig } from "vite";

// The console is bundled from the workspace packages' TypeScript sources ("@hft/source"), so it
// needs only `npm run generate` before a build, never the packages' own builds.
// `npm run dev -w @hft/console` serves it with the gateway behind /api, the RPC paths and /ws.
const gateway = process.env.HFT_GATEWAY_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  resolve: { conditions: ["@hft/source", "browser", "module", "import", "default"] },
  esbuild: { jsx: "automatic" },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, target: "es2022" },
  server: {
    host: "127.0.0.1",
    proxy: {
      "/hft.v1.": { target: gateway },
      "/ws": { target: gateway.replace(/^http/, "ws"), ws: true },
    },
  },
});

import { defaultClientConditions, defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources under the "@hft/source" export condition,
// so tests never need a build first.
export default defineConfig({
  resolve: { conditions: ["@hft/source", ...defaultClientConditions] },
  // Without "module": a package's "module" build may import without file extensions, which only a
  // bundler resolves, and externalized packages are loaded by Node itself (@opentelemetry/api).
  ssr: { resolve: { conditions: ["@hft/source", ...defaultServerConditions.filter((c) => c !== "module")] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["**/src/**/*.test.ts", "**/src/**/*.test.tsx", "tests/*.test.ts"],
          exclude: ["**/node_modules/**", "**/dist/**", "**/*.int.test.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["**/*.int.test.ts"],
          exclude: ["**/node_modules/**", "**/dist/**", "tests/faults/**"],
          setupFiles: ["./scripts/test-env.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          // The fault suite: its own stack, servers and processes, which it kills and restarts.
          name: "faults",
          include: ["tests/faults/**/*.int.test.ts"],
          setupFiles: ["./scripts/test-env.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});

import js from "@eslint/js";
import globals from "globals";
import reactHooks from "eslint-plugin-react-hooks";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["**/node_modules/**", "**/dist/**", "contract/src/gen/**", "sdk/ts/src/gen/**", "engine-cpp/**", ".run/**", ".deps/**"],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      eqeqeq: ["error", "always"],
      "no-console": ["error", { allow: ["error"] }],
    },
  },
  {
    // The web console runs in the browser; its hooks must follow React's rules.
    files: ["console/src/**"],
    languageOptions: { globals: globals.browser },
    ...reactHooks.configs.flat["recommended-latest"],
  },
  {
    // Command-line entry points and tests talk to a terminal.
    files: ["migrations/*.ts", "scripts/**", "**/*.test.ts", "**/*.test.tsx", "bench/**", "sdk/ts/examples/**"],
    rules: { "no-console": "off" },
  },
);

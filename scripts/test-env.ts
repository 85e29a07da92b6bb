// Integration tests reach the servers scripts/stack.sh starts: variables not set by the caller take
// the values of .env (when present) or .env.example.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
for (const file of [".env", ".env.example"]) {
  if (existsSync(`${root}${file}`)) process.loadEnvFile(`${root}${file}`);
}

// `npm run generate`: TypeScript from proto/ into contract/src/gen (git-ignored). Fetches the
// imported .proto files (google/api, buf/validate) from Maven Central first when they are missing.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const run = (command, args) => execFileSync(command, args, { cwd: root, stdio: "inherit" });

if (!existsSync(`${root}.deps/proto/buf/validate/validate.proto`) || !existsSync(`${root}.deps/proto/google/api/annotations.proto`)) {
  console.log("fetching imported .proto files with Maven");
  run("mvn", ["-q", "-f", "deps/proto/pom.xml", "package"]);
}
run("npx", ["--no-install", "buf", "generate"]);

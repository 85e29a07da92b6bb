// `npm run generate`: TypeScript from proto/ into contract/src/gen with the local plugins named in
// buf.gen.yaml, then the SDKs' code with their own templates (sdk/*/buf.gen.yaml: TypeScript, Go
// and Python, each into its gen folder), all git-ignored. Fetches the imported .proto files
// (google/api, buf/validate, grpc/health) from Maven Central into .deps/proto first when they are
// missing: the Buf Schema Registry is not used.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const imports = [".deps/proto/buf/validate/validate.proto", ".deps/proto/google/api/annotations.proto", ".deps/proto/grpc/health/v1/health.proto"];
const buf = `${root}node_modules/.bin/buf`;

function run(command, args) {
  try {
    execFileSync(command, args, { cwd: root, stdio: "inherit" });
  } catch (error) {
    const reason = error.code === "ENOENT" ? "is not installed" : `exited with ${error.status ?? error.signal}`;
    console.error(`generate-contract: \`${command} ${args.join(" ")}\` ${reason}`);
    process.exit(1);
  }
}

if (!imports.every((path) => existsSync(`${root}${path}`))) {
  console.log("generate-contract: fetching the imported .proto files with Maven");
  run("mvn", ["-B", "-q", "-f", "deps/proto/pom.xml", "package"]);
}
run(buf, ["generate"]);
// `--contract-only`: the services' image needs the contract alone, and has no SDK plugins.
if (!process.argv.includes("--contract-only")) {
  for (const sdk of ["ts", "go", "python"]) run(buf, ["generate", "--template", `sdk/${sdk}/buf.gen.yaml`]);
}

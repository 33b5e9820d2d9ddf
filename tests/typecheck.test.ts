import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { guardFile, test } from "./harness.ts";

guardFile();

const repo = new URL("..", import.meta.url).pathname;
const deno = join(repo, "node_modules/.bin/deno");

// The suite runs with --no-check (see scripts/test.sh), so the whole tree is
// type-checked here once: the library, the CLI, tests, examples, scripts and benches.
test("deno check passes for src, tests, examples, scripts and bench", () => {
  const files = ["src/mod.ts", "src/cli/main.ts"];
  for (const dir of ["tests", "tests/stress", "examples", "scripts", "bench"]) {
    try {
      for (const f of readdirSync(join(repo, dir))) if (f.endsWith(".ts")) files.push(`${dir}/${f}`);
    } catch {
      // an optional folder
    }
  }
  const r = spawnSync(deno, ["check", ...files], { cwd: repo, encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
}, { timeout: 120_000 });

// What JSR's docs page and `deno publish` need: a doc comment on every export
// the package entry points reach, and no private type in a public signature.
test("deno doc --lint passes on the package's exports", () => {
  const r = spawnSync(deno, ["doc", "--lint", "src/mod.ts", "src/cli/main.ts"], { cwd: repo, encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout + r.stderr, /Checked 2 files/);
}, { timeout: 120_000 });

/**
 * The package as users get it: JSR's dry run accepts it, and the npm tarball
 * installs with `bun add` into an empty project, imports, and runs the CLI.
 */
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { skipUnless } from "./harness.ts";

const repo = fileURLToPath(new URL("..", import.meta.url));
const bin = join(repo, "node_modules/.bin");
const bun = join(bin, "bun");
const deno = join(bin, "deno");
const slow = { timeout: 120_000 };

function run(cmd: string, args: readonly string[], cwd: string, env: Record<string, string> = {}) {
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    timeout: 100_000,
    env: { ...process.env, NO_COLOR: "1", ...env },
  });
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}`;
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? "", out };
}

function describe(what: string, r: { status: number | null; signal: string | null; out: string }): string {
  return `${what} exited ${r.status ?? r.signal}:\n${r.out}`;
}

function parseJson<T>(
  what: string,
  r: { status: number | null; signal: string | null; stdout: string; out: string },
): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch (e) {
    throw new Error(`${what} printed no JSON (${e}); ${describe(what, r)}`);
  }
}

function missingTool(path: string, install: string): string | null {
  return existsSync(path) ? null : `${path} is missing (${install})`;
}

const npmMissing = spawnSync("npm", ["--version"], { encoding: "utf8" }).status === 0
  ? null
  : "npm is not on PATH (apt-get install npm)";

skipUnless(
  missingTool(deno, "npm ci"),
  "packaging: deno publish --dry-run accepts the JSR package",
  () => {
    const r = run(deno, ["publish", "--dry-run", "--allow-dirty"], repo);
    assert.equal(r.status, 0, describe("deno publish --dry-run", r));
    assert.match(r.out, /Simulating publish of @kernelkit\/kernelkit@/);
    assert.match(r.out, /Success/);
    for (const file of ["/src/mod.ts", "/src/cli/main.ts", "/LICENSE", "/README.md", "/deno.json"]) {
      assert.ok(r.out.includes(file), `the JSR package lacks ${file}`);
    }
    assert.doesNotMatch(
      r.out,
      /\/(tests|node_modules|scripts|bench|examples)\//,
      "the JSR package holds dev files",
    );
  },
  slow,
);

skipUnless(
  missingTool(bun, "npm ci") ?? npmMissing,
  "packaging: npm pack, bun add the tarball, import it and run doctor",
  () => {
    const tmp = mkdtempSync(join(tmpdir(), "kernelkit-pack-"));
    try {
      // npm pack prints the tarball's manifest as JSON on stdout.
      const pack = run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", tmp], repo);
      assert.equal(pack.status, 0, describe("npm pack", pack));
      const [manifest] = parseJson<{ filename: string; files: { path: string }[] }[]>("npm pack", pack);
      const files = manifest.files.map((f) => f.path);
      for (
        const f of ["package.json", "src/mod.ts", "src/cli/main.ts", "src/errors.ts", "LICENSE", "README.md"]
      ) {
        assert.ok(files.includes(f), `the tarball lacks ${f}`);
      }
      const dev = files.filter((f) => /^(tests|scripts|bench|examples|node_modules|\.ci)\//.test(f));
      assert.deepEqual(dev, [], "the tarball holds dev files");

      const project = join(tmp, "app");
      mkdirSync(project);
      writeFileSync(
        join(project, "package.json"),
        JSON.stringify({ name: "app", private: true, type: "module" }),
      );
      // The tarball has no dependencies, so this needs no registry. A private
      // cache keeps the user's bun cache out of it, and goes with the temp dir.
      // bun on PATH for the bin's `#!/usr/bin/env bun`.
      const env = { BUN_INSTALL_CACHE_DIR: join(tmp, "bun-cache"), PATH: `${bin}:${process.env.PATH ?? ""}` };
      const add = run(bun, ["add", join(tmp, manifest.filename)], project, env);
      assert.equal(add.status, 0, describe("bun add", add));
      assert.ok(existsSync(join(project, "node_modules/kernelkit/src/mod.ts")), add.out);

      const imp = run(
        bun,
        ["-e", "import('kernelkit').then((m) => console.log(typeof m.KernelError))"],
        project,
        env,
      );
      assert.equal(imp.status, 0, describe("import('kernelkit')", imp));
      assert.equal(imp.stdout.trim(), "function");

      // `bunx kernelkit` finds the installed bin in the project's node_modules/.bin.
      const doc = run(bun, ["x", "kernelkit", "doctor", "--json"], project, env);
      assert.ok(
        doc.signal === null && (doc.status === 0 || doc.status === 1),
        describe("bunx kernelkit doctor", doc),
      );
      const report = parseJson<{ rows: unknown }>("bunx kernelkit doctor --json", doc);
      assert.ok(Array.isArray(report.rows) && report.rows.length > 0, `no rows in ${doc.stdout}`);
      for (const row of report.rows as Record<string, unknown>[]) {
        const shape = typeof row.area === "string" && typeof row.item === "string" &&
          typeof row.value === "string" && typeof row.how === "string" &&
          (row.ok === null || typeof row.ok === "boolean");
        assert.ok(shape, `a malformed row: ${JSON.stringify(row)}`);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  },
  slow,
);

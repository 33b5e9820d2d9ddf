/**
 * The package as users get it: JSR's dry run accepts it, and the npm tarball
 * installs with `bun add` into an empty project, imports, runs the CLI, and
 * runs every TypeScript example of the README.
 */
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { guardFile, skipUnless, test } from "./harness.ts";
import { netnsMissing, withNetns } from "./support/netns.ts";
import { runtimeBinary, runtimeName } from "./support/process.ts";

guardFile();

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
    // Clean, not merely accepted: no slow-type, license or doc warning on the way.
    assert.doesNotMatch(r.out, /\bwarning\b/i, describe("deno publish --dry-run warned", r));
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

/** The packed tarball installed with `bun add` into an empty project. */
interface Installed {
  /** The temp dir holding the tarball and the project; remove it when done. */
  readonly tmp: string;
  /** The project: package.json and node_modules/kernelkit. */
  readonly project: string;
  /** The environment to run bun in it. */
  readonly env: Record<string, string>;
  /** The tarball's files. */
  readonly files: readonly string[];
}

function packAndInstall(): Installed {
  const tmp = mkdtempSync(join(tmpdir(), "kernelkit-pack-"));
  // npm pack prints the tarball's manifest as JSON on stdout.
  const pack = run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", tmp], repo);
  assert.equal(pack.status, 0, describe("npm pack", pack));
  const [manifest] = parseJson<{ filename: string; files: { path: string }[] }[]>("npm pack", pack);
  const project = join(tmp, "app");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  // The tarball has no dependencies, so this needs no registry. A private
  // cache keeps the user's bun cache out of it, and goes with the temp dir.
  // bun on PATH for the bin's `#!/usr/bin/env bun`.
  const env = { BUN_INSTALL_CACHE_DIR: join(tmp, "bun-cache"), PATH: `${bin}:${process.env.PATH ?? ""}` };
  const add = run(bun, ["add", join(tmp, manifest.filename)], project, env);
  assert.equal(add.status, 0, describe("bun add", add));
  assert.ok(existsSync(join(project, "node_modules/kernelkit/src/mod.ts")), add.out);
  return { tmp, project, env, files: manifest.files.map((f) => f.path) };
}

/** One ` ```ts ` block of the README. */
interface Example {
  /** 1-based, in README order. */
  readonly n: number;
  /** The README line the block starts on. */
  readonly line: number;
  readonly code: string;
  /** It says "As root" in a comment. */
  readonly root: boolean;
}

/** Every ` ```ts ` block of README.md (not ` ```ts fragment `). */
function readmeExamples(): Example[] {
  const text = readFileSync(join(repo, "README.md"), "utf8");
  const out: Example[] = [];
  const fence = /^```ts\n([\s\S]*?)^```$/gm;
  for (let m = fence.exec(text); m; m = fence.exec(text)) {
    out.push({
      n: out.length + 1,
      line: text.slice(0, m.index).split("\n").length,
      code: m[1],
      root: /\/\/.*\bAs root\b/.test(m[1]),
    });
  }
  return out;
}

/**
 * Runs README examples with this runtime: under Bun in the project that
 * `bun add`ed the tarball; under Deno (which won't strip types in
 * node_modules) from a copy of the installed package, mapped to "kernelkit"
 * by an import map. `args` go to every example.
 */
function runExamples(installed: Installed, examples: readonly Example[], args: readonly string[] = []): void {
  let dir = installed.project;
  if (runtimeName === "deno") {
    dir = join(installed.tmp, "deno-app");
    cpSync(join(installed.project, "node_modules/kernelkit"), join(dir, "kernelkit"), { recursive: true });
    writeFileSync(join(dir, "deno.json"), JSON.stringify({ imports: { kernelkit: "./kernelkit/src/mod.ts" } }));
  }
  for (const ex of examples) {
    const file = join(dir, `readme-${ex.n}.ts`);
    writeFileSync(file, ex.code);
    const argv = runtimeName === "deno" ? ["run", "-A", "--no-check", file, ...args] : [file, ...args];
    const r = run(runtimeBinary, argv, dir, installed.env);
    assert.equal(r.status, 0, describe(`the README example at line ${ex.line} (${runtimeName})`, r));
    assert.ok(r.stdout.trim().length > 0, `the README example at line ${ex.line} printed nothing`);
  }
}

test("packaging: the README's TypeScript examples are complete programs that import kernelkit", () => {
  const examples = readmeExamples();
  assert.ok(examples.length >= 5, `${examples.length} examples`);
  for (const ex of examples) {
    assert.match(ex.code, /from "kernelkit"/, `the README example at line ${ex.line} does not import "kernelkit"`);
    assert.doesNotMatch(ex.code, /\.\.\/src\//, `the README example at line ${ex.line} imports from the checkout`);
  }
});

skipUnless(
  missingTool(bun, "npm ci") ?? npmMissing,
  "packaging: npm pack, bun add the tarball, import it, run doctor and the README examples that need no root",
  () => {
    const installed = packAndInstall();
    const { tmp, project, env, files } = installed;
    try {
      for (
        const f of [
          "package.json",
          "src/mod.ts",
          "src/cli/main.ts",
          "src/errors.ts",
          "src/tour/mod.ts",
          "bpf/xdp_firewall.bpf.o",
          "bpf/xdp_flood.bpf.o",
          "LICENSE",
          "README.md",
        ]
      ) {
        assert.ok(files.includes(f), `the tarball lacks ${f}`);
      }
      const dev = files.filter((f) => /^(tests|scripts|bench|examples|docs|node_modules|\.ci)\//.test(f));
      assert.deepEqual(dev, [], "the tarball holds dev files");

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

      runExamples(installed, readmeExamples().filter((ex) => !ex.root));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  },
  slow,
);

skipUnless(
  missingTool(bun, "npm ci") ?? npmMissing ?? netnsMissing,
  "packaging: the README examples that need root run from the installed tarball (XDP on a veth pair)",
  async () => {
    const installed = packAndInstall();
    try {
      const examples = readmeExamples().filter((ex) => ex.root);
      assert.ok(examples.length >= 2, `${examples.length} root examples`);
      // The interface for the XDP example: a veth of a test namespace, never the host's own.
      await withNetns((ns) => runExamples(installed, examples, [ns.hostIf]));
    } finally {
      rmSync(installed.tmp, { recursive: true, force: true });
    }
  },
  slow,
);

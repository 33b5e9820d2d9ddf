/**
 * The operator scripts in scripts/: every one answers --help (and does
 * nothing else), and setup-host.ts reports the packages, bpffs and the
 * doctor's view without changing anything under --dry-run.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { guardFile, test } from "./harness.ts";
import { runScript } from "./support/process.ts";

guardFile();

const repo = new URL("..", import.meta.url).pathname;
const scripts = readdirSync(join(repo, "scripts")).filter((f) => /\.(ts|sh)$/.test(f)).sort();

test("scripts: every script in scripts/ answers --help with its usage and exits 0", () => {
  assert.ok(scripts.includes("setup-host.ts") && scripts.includes("setup.sh"), scripts.join(" "));
  for (const name of scripts) {
    const path = join(repo, "scripts", name);
    const r = name.endsWith(".sh")
      ? spawnSync("bash", [path, "--help"], { encoding: "utf8", timeout: 30_000 })
      : runScript(path, ["--help"], { timeoutMs: 30_000 });
    assert.equal(r.status, 0, `${name} --help exited ${r.status}: ${r.stderr}`);
    assert.ok(r.stdout.includes(name), `${name} --help does not name the script:\n${r.stdout}`);
    assert.ok(r.stdout.split("\n").length >= 3, `${name} --help says too little:\n${r.stdout}`);
  }
}, { timeout: 120_000 });

test("scripts: setup-host.ts --dry-run --json reports setup.sh's packages, bpffs and the doctor, changing nothing", () => {
  const r = runScript(join(repo, "scripts/setup-host.ts"), ["--dry-run", "--json"], { timeoutMs: 60_000 });
  assert.ok(r.status === 0 || r.status === 1, `exit ${r.status}: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as {
    dryRun: boolean;
    packages: string[];
    missing: string[];
    installed: string[];
    bpffs: string;
    doctor: { area: string; item: string; ok: boolean | null }[];
  };
  const list = spawnSync("bash", [join(repo, "scripts/setup.sh"), "--list"], { encoding: "utf8" }).stdout.trim().split("\n");
  assert.equal(out.dryRun, true);
  assert.deepEqual(out.packages, list);
  assert.deepEqual(out.installed, []);
  assert.ok(["mounted", "would mount"].includes(out.bpffs), out.bpffs);
  assert.ok(out.doctor.some((d) => d.area === "io_uring" && d.item === "ring setup"));
  const bad = runScript(join(repo, "scripts/setup-host.ts"), ["--frobnicate"]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown argument --frobnicate/);
}, { timeout: 90_000 });

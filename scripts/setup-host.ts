#!/usr/bin/env bun
/**
 * Prepares a Debian or Ubuntu host for kernelkit, then shows what the host
 * lets it do:
 *
 * 1. installs the Debian packages kernelkit uses (the list is scripts/setup.sh's,
 *    `--list`), only those missing, with `apt-get install --no-install-recommends
 *    --no-upgrade`;
 * 2. mounts bpffs at /sys/fs/bpf when it isn't mounted (pinned XDP firewalls
 *    need it);
 * 3. prints the doctor's report, with what is still missing and how to fix it.
 *
 *   bun scripts/setup-host.ts [--dry-run] [--json]
 *   deno run -A scripts/setup-host.ts --dry-run
 *
 * --dry-run  change nothing: say what would be installed and mounted
 * --json     print the outcome as one JSON object
 *
 * Installing and mounting need root; without root it says what to run. Exit
 * code 0 when nothing is left to do, 1 when something could not be done, 2
 * on bad arguments. Uses kernelkit's public API and zx.
 *
 * @module
 */
import process from "node:process";
import { $, argv, echo } from "zx";
import { bpffsMounted, BPFFS_ROOT, doctor, ensureBpffs, KernelError } from "../src/mod.ts";

const USAGE = `usage: setup-host.ts [--dry-run] [--json]

Installs the Debian packages kernelkit uses (only the missing ones), mounts
bpffs at ${BPFFS_ROOT} when it isn't mounted, and prints the doctor's report.
Needs root to install and mount; --dry-run changes nothing.`;

const known = new Set(["_", "dry-run", "json", "help", "h"]);
if (argv.help || argv.h) {
  echo(USAGE);
  process.exit(0);
}
const unknown = Object.keys(argv).filter((k) => !known.has(k));
if (unknown.length > 0 || argv._.length > 0) {
  console.error(`setup-host: unknown argument ${unknown.map((k) => `--${k}`).concat(argv._.map(String)).join(" ")}\n\n${USAGE}`);
  process.exit(2);
}
const dryRun = argv["dry-run"] === true;
const json = argv.json === true;
const root = process.getuid?.() === 0;
$.verbose = false;

const repo = new URL("..", import.meta.url).pathname;
const say = (s: string) => {
  if (!json) echo(`setup-host: ${s}`);
};
const problems: string[] = [];

// 1. Debian packages: the one list, in scripts/setup.sh.
const packages = (await $`bash ${repo}scripts/setup.sh --list`).stdout.split("\n").filter(Boolean);
let missing: string[] = [];
const haveDpkg = (await $`command -v dpkg-query`.nothrow()).exitCode === 0;
if (!haveDpkg) {
  problems.push(`no dpkg here (not Debian/Ubuntu): install the equivalents of ${packages.join(" ")} yourself`);
} else {
  for (const p of packages) {
    const r = await $`dpkg-query -W -f=${"${Status}"} ${p}`.nothrow();
    if (!r.stdout.includes("install ok installed")) missing.push(p);
  }
}
let installed: string[] = [];
if (missing.length === 0) say(`all ${packages.length} Debian packages are installed`);
else if (dryRun) say(`would install: ${missing.join(" ")}`);
else if (!root) {
  problems.push(`missing Debian packages: ${missing.join(" ")}; as root: apt-get install -y --no-install-recommends ${missing.join(" ")}`);
} else {
  say(`installing ${missing.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  // A fresh image has no package lists; a stale one may point at removed files.
  await $({ env })`apt-get update -qq`.nothrow();
  const r = await $({ env })`apt-get install -y -qq --no-install-recommends --no-upgrade ${missing}`.nothrow();
  if (r.exitCode === 0) {
    installed = missing;
    missing = [];
  } else problems.push(`apt-get install failed (${r.exitCode}): ${r.stderr.trim()}`);
}

// 2. bpffs.
let bpffs: "mounted" | "mounted now" | "would mount" | "not mounted" = "mounted";
if (!bpffsMounted(BPFFS_ROOT)) {
  if (dryRun) bpffs = "would mount";
  else {
    try {
      ensureBpffs(BPFFS_ROOT);
      bpffs = "mounted now";
    } catch (e) {
      bpffs = "not mounted";
      problems.push(e instanceof KernelError ? e.message : String(e));
    }
  }
}
say(`bpffs at ${BPFFS_ROOT}: ${bpffs}`);

// 3. The doctor's view.
const report = doctor();
const notOk = report.rows.filter((r) => r.ok === false);
if (json) {
  echo(JSON.stringify({ dryRun, packages, missing, installed, bpffs, problems, doctor: report.rows }, null, 2));
} else {
  const mark = (ok: boolean | null) => (ok === true ? "ok" : ok === false ? "NO" : "--");
  const w = Math.max(...report.rows.map((r) => `${r.area} ${r.item}`.length));
  echo("");
  for (const r of report.rows) echo(`${mark(r.ok)}  ${`${r.area} ${r.item}`.padEnd(w)}  ${r.value}`);
  echo("");
  for (const p of problems) echo(`setup-host: not done: ${p}`);
  say(`${notOk.length} of the doctor's ${report.rows.length} rows are not ok; each says what would fix it`);
}
process.exitCode = problems.length > 0 ? 1 : 0;

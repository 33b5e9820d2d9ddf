#!/usr/bin/env bun
/**
 * Sizes and reserves a hugetlb pool for a buffer, checks what the kernel gave,
 * and prints the line that makes the pool permanent.
 *
 *   bun scripts/hugepages-for.ts --for 8GiB [--size 2MB] [--dry-run] [--compact] [--json]
 *   deno run -A scripts/hugepages-for.ts --for 8GiB --size 1GB
 *
 * --for      the buffer size (bytes, or with a binary unit: 512MiB, 8GiB)
 * --size     the huge page size; default: the kernel's default (2MB on x86-64)
 * --dry-run  say what would change, change nothing
 * --compact  if the kernel gives fewer pages than asked, compact memory once
 *            (/proc/sys/vm/compact_memory) and try again
 * --json     print the result as one JSON object
 *
 * Needs root (except --dry-run). Exits 0 when the pool has the pages, 1 when
 * the kernel gave fewer, 2 on bad arguments. Uses kernelkit's public API and zx.
 */
import process from "node:process";
import { $, argv } from "zx";
import { hugePages, KernelError, pageSizeName, parseSize, persistentPoolSetting } from "../src/mod.ts";

$.verbose = false;

if (argv.help || argv.h) {
  console.log(`usage: hugepages-for.ts --for SIZE [--size 2MB|1GB] [--dry-run] [--compact] [--json]

Sizes and reserves a hugetlb pool for a buffer of SIZE (512MiB, 8GiB), checks
what the kernel gave, and prints the sysctl line that keeps the pool across
reboots. Needs root, except with --dry-run.
  --for      the buffer size
  --size     the huge page size (default: the kernel's default, 2MB on x86-64)
  --dry-run  say what would change, change nothing
  --compact  if the kernel gives fewer pages, compact memory once and retry
  --json     print the result as one JSON object`);
  process.exit(0);
}

function fail(message: string, code = 2): never {
  console.error(`hugepages-for: ${message}`);
  process.exit(code);
}

const forArg = argv.for as string | number | boolean | undefined;
if (forArg === undefined || typeof forArg === "boolean") {
  fail("--for <buffer size> is required, e.g. --for 8GiB");
}

let bytes: number;
let pageBytes: number;
try {
  bytes = parseSize(String(forArg));
  pageBytes = argv.size === undefined ? hugePages.status().defaultSize ?? 0 : parseSize(String(argv.size));
} catch (e) {
  fail(e instanceof KernelError ? e.message : String(e));
}
const pool = hugePages.pool(pageBytes);
if (!pool) {
  const have = hugePages.status().pools.map((p) => p.size).join(", ") || "none";
  fail(`this kernel has no ${pageSizeName(pageBytes)} hugetlb pool (pools: ${have})`);
}
const count = Math.ceil(bytes / pool.bytes);
const dryRun = argv["dry-run"] === true;

function reserveOnce() {
  return hugePages.reserve(pool!.size, count, { dryRun });
}

let result;
try {
  result = reserveOnce();
  if (!result.ok && !dryRun && argv.compact === true) {
    console.error(`hugepages-for: got ${result.total} of ${count}; compacting memory and trying again`);
    await $`sh -c ${"echo 1 > /proc/sys/vm/compact_memory"}`;
    result = reserveOnce();
  }
} catch (e) {
  fail(e instanceof KernelError ? e.message : String(e), 1);
}

// Check the pool with a tool other than kernelkit: the file itself, and for
// the default size the sysctl that the permanent setting uses.
const fileNow = Number((await $`cat ${result.file}`).stdout.trim());
const viaSysctl = pool.isDefault ? Number((await $`sysctl -n vm.nr_hugepages`).stdout.trim()) : undefined;
const permanent = persistentPoolSetting(pool.size, count);

if (argv.json === true) {
  console.log(
    JSON.stringify({
      buffer: bytes,
      count,
      result,
      checked: { file: fileNow, sysctl: viaSysctl },
      permanent,
    }),
  );
} else {
  const human = (
    n: number,
  ) => (n >= 2 ** 30 ? `${+(n / 2 ** 30).toFixed(2)} GiB` : `${+(n / 2 ** 20).toFixed(2)} MiB`);
  const pages = `${count} page${count === 1 ? "" : "s"}`;
  console.log(`a buffer of ${human(bytes)} needs ${pages} of ${pool.size} (${human(count * pool.bytes)})`);
  if (dryRun) console.log(`dry run: ${result.reason}`);
  else if (!result.changed) {
    console.log(`the ${pool.size} pool already has ${result.total} pages; nothing written`);
  } else {console.log(
      `the ${pool.size} pool: ${result.before} -> ${result.total} pages (${result.free} free)`,
    );}
  console.log(
    `checked: ${result.file} reads ${fileNow}${
      viaSysctl === undefined ? "" : `, sysctl vm.nr_hugepages = ${viaSysctl}`
    }`,
  );
  if (!result.ok && !dryRun) console.error(`hugepages-for: ${result.reason}`);
  console.log(`to make it permanent, add to ${permanent.where}:`);
  console.log(`  ${permanent.line}`);
}
process.exit(result.ok || dryRun ? 0 : 1);

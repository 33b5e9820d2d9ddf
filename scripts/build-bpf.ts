#!/usr/bin/env bun
/**
 * Builds kernelkit's BPF programs: every `bpf/*.bpf.c` (and the test fixtures in
 * `tests/fixtures/*.bpf.c`) into a `.bpf.o` beside it, with
 * `clang -O2 -g -target bpf`. The `-g` gives the object BTF, so that libbpf can
 * do CO-RE relocations and name the maps' key and value types.
 *
 * The built objects are committed, so users need no clang; CI rebuilds them
 * into a scratch directory and tests both.
 *
 *   bun scripts/build-bpf.ts               rebuild in place
 *   deno run -A scripts/build-bpf.ts --out DIR   build into DIR instead
 *   ... --clang PATH                       use another clang (default: $CLANG or clang)
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import process from "node:process";

const repo = join(dirname(new URL(import.meta.url).pathname), "..");
const sourceDirs = [join(repo, "bpf"), join(repo, "tests/fixtures")];

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The directory holding <asm/types.h> for this host (Debian's multiarch layout). */
function multiarchInclude(): string[] {
  try {
    const triple = execFileSync("gcc", ["-print-multiarch"], { encoding: "utf8" }).trim();
    return triple ? [`-I/usr/include/${triple}`] : [];
  } catch {
    return [];
  }
}

const clang = option("--clang") ?? process.env.CLANG ?? "clang";
const out = option("--out");
const includes = multiarchInclude();
let built = 0;
for (const dir of sourceDirs) {
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".bpf.c")).sort()) {
    const src = join(dir, file);
    const target = join(out ?? dir, `${basename(file, ".c")}.o`);
    if (out) mkdirSync(out, { recursive: true });
    const args = ["-O2", "-g", "-target", "bpf", "-Wall", "-Werror", ...includes, "-c", src, "-o", target];
    try {
      execFileSync(clang, args, { stdio: ["ignore", "inherit", "inherit"] });
    } catch (e) {
      const missing = (e as { code?: string }).code === "ENOENT";
      console.error(
        missing
          ? `build-bpf: ${clang} not found: apt-get install clang llvm (or set CLANG)`
          : `build-bpf: ${clang} ${args.join(" ")} failed`,
      );
      process.exit(1);
    }
    console.log(`built ${target}`);
    built++;
  }
}
console.log(`build-bpf: ${built} objects`);

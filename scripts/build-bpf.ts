#!/usr/bin/env bun
/**
 * Builds kernelkit's BPF programs: every `bpf/*.bpf.c` (and the test fixtures in
 * `tests/fixtures/*.bpf.c`) into a `.bpf.o` beside it, with
 * `clang -O2 -g -target bpf`. The `-g` gives the object BTF, so that libbpf can
 * do CO-RE relocations and name the maps' key and value types.
 *
 * Tracing programs (syscount, opensnoop) are CO-RE: they include `vmlinux.h`,
 * every kernel type as this kernel's BTF describes it, which the script
 * generates with `bpftool btf dump file /sys/kernel/btf/vmlinux format c` into
 * `.generated/` beside the objects (gitignored: it is about 3 MB, and it is
 * only an input). libbpf relocates the field offsets against the BTF of the
 * kernel that loads the object, so the objects run on other kernels too.
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
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import process from "node:process";

if (process.argv.includes("--help") || process.argv.includes("-h")) {
  console.log(`usage: build-bpf.ts [--out DIR] [--clang PATH]

Builds every bpf/*.bpf.c (and tests/fixtures/*.bpf.c) into a .bpf.o beside it
with clang -O2 -g -target bpf, generating vmlinux.h from this kernel's BTF for
the CO-RE tracing programs.
  --out DIR      build into DIR instead of in place
  --clang PATH   the clang to use (default: $CLANG or clang)`);
  process.exit(0);
}

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

/** bpf_tracing.h's name for this architecture (PT_REGS_* and BPF_KPROBE need it). */
function targetArch(): string {
  const arch: Record<string, string> = { x64: "x86", arm64: "arm64", s390x: "s390", ppc64: "powerpc", riscv64: "riscv" };
  return arch[process.arch] ?? process.arch;
}

/**
 * Writes `dir/vmlinux.h` from the running kernel's BTF and returns `dir`:
 * the include directory of the CO-RE sources.
 */
function generateVmlinuxHeader(dir: string): string {
  const btf = "/sys/kernel/btf/vmlinux";
  let header: string;
  try {
    header = execFileSync("bpftool", ["btf", "dump", "file", btf, "format", "c"], {
      encoding: "utf8",
      maxBuffer: 256 << 20,
      stdio: ["ignore", "pipe", "inherit"],
    });
  } catch (e) {
    const missing = (e as { code?: string }).code === "ENOENT";
    console.error(
      missing
        ? "build-bpf: bpftool not found: apt-get install bpftool (it generates vmlinux.h for the CO-RE programs)"
        : `build-bpf: bpftool btf dump file ${btf} failed: this kernel needs CONFIG_DEBUG_INFO_BTF`,
    );
    process.exit(1);
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "vmlinux.h"), header);
  return dir;
}

const clang = option("--clang") ?? process.env.CLANG ?? "clang";
const out = option("--out");
const includes = multiarchInclude();
let generated: string | undefined;
let built = 0;
for (const dir of sourceDirs) {
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".bpf.c")).sort()) {
    const src = join(dir, file);
    const target = join(out ?? dir, `${basename(file, ".c")}.o`);
    if (out) mkdirSync(out, { recursive: true });
    const coRe = /^#include\s+"vmlinux\.h"/m.test(readFileSync(src, "utf8"));
    if (coRe) generated ??= generateVmlinuxHeader(join(out ?? join(repo, "bpf"), ".generated"));
    // vmlinux.h and the UAPI headers declare the same types: a CO-RE source gets only vmlinux.h.
    const extra = coRe ? [`-I${generated}`, `-D__TARGET_ARCH_${targetArch()}`] : includes;
    const args = ["-O2", "-g", "-target", "bpf", "-Wall", "-Werror", ...extra, "-c", src, "-o", target];
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

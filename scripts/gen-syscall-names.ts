#!/usr/bin/env bun
/**
 * Generates `ffi/syscall_names.ts`, the x86-64 system call names by number,
 * from the kernel's UAPI header `<asm/unistd_64.h>` (every `#define
 * __NR_<name> <number>` line). `kernelkit trace syscalls` names syscalls with
 * it; `tests/syscall_names.test.ts` checks it against the header.
 *
 *   bun scripts/gen-syscall-names.ts              regenerate the table
 *   deno run -A scripts/gen-syscall-names.ts --check   exit 1 if it is stale
 *   ... --header PATH                              another unistd_64.h
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";

const repo = join(dirname(new URL(import.meta.url).pathname), "..");
const target = join(repo, "ffi/syscall_names.ts");

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The header's path on this host (Debian's multiarch layout first). */
function defaultHeader(): string {
  let triple = "x86_64-linux-gnu";
  try {
    triple = execFileSync("gcc", ["-print-multiarch"], { encoding: "utf8" }).trim() || triple;
  } catch {
    // No gcc: assume Debian's x86-64 layout.
  }
  const candidates = [`/usr/include/${triple}/asm/unistd_64.h`, "/usr/include/asm/unistd_64.h"];
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}

/** The (number, name) pairs the header defines, by number. */
export function parseUnistd(text: string): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (const m of text.matchAll(/^#define\s+__NR_(\w+)\s+(\d+)\s*$/gm)) out.push([Number(m[2]), m[1]]);
  return out.sort((a, b) => a[0] - b[0]);
}

/** The TypeScript module for a parsed header. */
export function render(pairs: ReadonlyArray<readonly [number, string]>, header: string): string {
  const body = pairs.map(([nr, name]) => `  ${nr}: "${name}",`).join("\n");
  return `/**
 * x86-64 system call names by number, generated from <asm/unistd_64.h>
 * (${header}, ${pairs.length} calls) by scripts/gen-syscall-names.ts.
 * DO NOT EDIT: run the script again; tests/syscall_names.test.ts checks the
 * table against the header.
 *
 * A kernel newer than the header has calls past its last number; they have
 * no name here.
 *
 * @module
 */

/** x86-64 system call names, keyed by number. */
export const SYSCALL_NAMES_X86_64: Readonly<Record<number, string>> = {
${body}
};
`;
}

const USAGE = `gen-syscall-names.ts: writes ffi/syscall_names.ts from <asm/unistd_64.h>

  bun scripts/gen-syscall-names.ts                    regenerate the table
  deno run -A scripts/gen-syscall-names.ts --check    exit 1 if the table is stale
  ... --header PATH                                   read another unistd_64.h
  ... --help                                          this text`;

if (import.meta.main) {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    console.log(USAGE);
    process.exit(0);
  }
  const header = option("--header") ?? defaultHeader();
  if (!existsSync(header)) {
    console.error(`gen-syscall-names: ${header} not found: apt-get install linux-libc-dev (or pass --header)`);
    process.exit(1);
  }
  const text = render(parseUnistd(readFileSync(header, "utf8")), header);
  if (process.argv.includes("--check")) {
    const current = existsSync(target) ? readFileSync(target, "utf8") : "";
    if (current !== text) {
      console.error(`gen-syscall-names: ${target} is stale: run scripts/gen-syscall-names.ts`);
      process.exit(1);
    }
    console.log(`gen-syscall-names: ${target} matches ${header}`);
  } else {
    writeFileSync(target, text);
    console.log(`gen-syscall-names: wrote ${target}`);
  }
}

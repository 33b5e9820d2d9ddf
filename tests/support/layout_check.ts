/**
 * Compares the TypeScript struct and constant declarations of one
 * `ffi/structs/` module with what gcc computes from the real C headers.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Struct } from "../../ffi/layout.ts";

/** What a structs module exports, as seen by the checker. */
export interface Declarations {
  /** Headers to include. */
  readonly headers: readonly string[];
  /** Structs by export name. */
  readonly structs: ReadonlyMap<string, Struct>;
  /** Constants by C name. */
  readonly constants: ReadonlyMap<string, number>;
}

/** Sorts a module's exports into headers, structs and constants. */
export function declarationsOf(mod: Record<string, unknown>): Declarations {
  const unchecked = new Set((mod.UNCHECKED as string[] | undefined) ?? []);
  const structs = new Map<string, Struct>();
  const constants = new Map<string, number>();
  for (const [name, value] of Object.entries(mod)) {
    if (unchecked.has(name) || name === "HEADERS" || name === "UNCHECKED") continue;
    if (value instanceof Struct) structs.set(name, value);
    else if (typeof value === "number" && /^[A-Z_][A-Z0-9_]*$/.test(name)) constants.set(name, value);
    else if (
      value !== null && typeof value === "object" && !Array.isArray(value) &&
      Object.values(value).length > 0 && Object.values(value).every((v) => typeof v === "number") &&
      Object.keys(value).every((k) => /^[A-Z_][A-Z0-9_]*$/.test(k))
    ) {
      // A table of constants (ERRNO): each key is a C name.
      for (const [k, v] of Object.entries(value)) constants.set(k, v as number);
    }
  }
  return { headers: (mod.HEADERS as string[] | undefined) ?? [], structs, constants };
}

/** The C program that prints, one per line, what the TS declarations claim. */
export function cProgram(d: Declarations): string {
  const lines = ["#define _GNU_SOURCE", "#include <stdio.h>", "#include <stddef.h>"];
  for (const h of d.headers) lines.push(`#include <${h}>`);
  lines.push("int main(void) {");
  for (const [exportName, s] of d.structs) {
    const T = s.cName;
    lines.push(`  printf("S ${exportName} %zu %zu\\n", sizeof(${T}), _Alignof(${T}));`);
    for (const f of s.fields) {
      const member = `((${T} *)0)->${f.path}`;
      const flexible = f.type.kind === "array" && f.type.length === 0;
      const size = flexible ? "(size_t)0" : `sizeof(${member})`;
      const signed = f.type.kind === "scalar" && f.type.scalar !== "ptr"
        ? `(int)((__typeof__(${member}))-1 < 0)`
        : "-1";
      lines.push(
        `  printf("F ${exportName} ${f.path} %zu %zu %d\\n", offsetof(${T}, ${f.path}), ${size}, ${signed});`,
      );
    }
  }
  for (const name of d.constants.keys()) {
    lines.push(`  printf("C ${name} %lld\\n", (long long)(${name}));`);
  }
  lines.push("  return 0;", "}");
  return lines.join("\n") + "\n";
}

/** What the TS side claims, in the program's output format. */
export function expectedLines(d: Declarations): string[] {
  const out: string[] = [];
  for (const [exportName, s] of d.structs) {
    out.push(`S ${exportName} ${s.size} ${s.align}`);
    for (const f of s.fields) {
      const flexible = f.type.kind === "array" && f.type.length === 0;
      const signed = f.type.kind === "scalar" && f.type.scalar !== "ptr" ? (f.type.signed ? 1 : 0) : -1;
      out.push(`F ${exportName} ${f.path} ${f.offset} ${flexible ? 0 : f.type.size} ${signed}`);
    }
  }
  for (const [name, value] of d.constants) out.push(`C ${name} ${BigInt.asIntN(64, BigInt(value))}`);
  return out;
}

/** Compiles and runs the program; returns its output lines. */
export function compileAndRun(program: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), "kernelkit-layout-"));
  try {
    writeFileSync(join(dir, "layout.c"), program);
    execFileSync("gcc", ["-std=gnu11", "-w", "-o", join(dir, "layout"), join(dir, "layout.c")], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    return execFileSync(join(dir, "layout"), { encoding: "utf8" }).trim().split("\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The lines where the TS declarations and the C headers disagree. */
export function mismatches(d: Declarations): string[] {
  const actual = compileAndRun(cProgram(d));
  const expected = expectedLines(d);
  const bad: string[] = [];
  for (let i = 0; i < Math.max(actual.length, expected.length); i++) {
    if (actual[i] !== expected[i]) bad.push(`C says "${actual[i]}", TS says "${expected[i]}"`);
  }
  return bad;
}

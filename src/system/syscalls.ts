/**
 * System call names and numbers, from the table generated from the kernel's
 * UAPI header (ffi/syscall_names.ts, by scripts/gen-syscall-names.ts).
 *
 * The table is x86-64's. On another architecture, and for calls newer than
 * the header the table was generated from, a number has no name and is shown
 * as `syscall_<n>`.
 *
 * @module
 */
import process from "node:process";
import { SYSCALL_NAMES_X86_64 } from "../../ffi/syscall_names.ts";

const table: Readonly<Record<number, string>> = process.arch === "x64" ? SYSCALL_NAMES_X86_64 : {};
let byName: Map<string, number> | undefined;

/** The name of system call `nr` on this architecture ("getppid"), or `syscall_<nr>` when the table has none. */
export function syscallName(nr: number): string {
  return table[nr] ?? `syscall_${nr}`;
}

/** The number of system call `name` on this architecture, or undefined when the table has no such call. */
export function syscallNumber(name: string): number | undefined {
  if (!byName) {
    byName = new Map();
    for (const [nr, n] of Object.entries(table)) byName.set(n, Number(nr));
  }
  return byName.get(name) ?? (/^syscall_\d+$/.test(name) ? Number(name.slice(8)) : undefined);
}

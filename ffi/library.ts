/**
 * Finding and opening the native libraries kernelkit binds: libc, liburing and libbpf.
 *
 * Each library is described once (its sonames, an environment override and the
 * Debian/Ubuntu package that ships it) and opened lazily on first use. A failure
 * reports every path tried and why, so `src/` can turn it into a KernelError
 * that says what to install.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { runtime } from "./runtime/mod.ts";
import type { NativeLibrary, SymbolTable } from "./runtime/types.ts";

/** How to find one native library. */
export interface LibrarySpec<T extends SymbolTable> {
  /** Short name: "libc", "liburing", "libbpf". */
  readonly name: string;
  /** Sonames or paths to try, in order. */
  readonly candidates: readonly string[];
  /** An environment variable that, when set, is tried first (a path or soname). */
  readonly env: string;
  /** The Debian/Ubuntu package that ships the library. */
  readonly package: string;
  /** The symbols to bind. */
  readonly symbols: T;
}

/** One failed attempt to open a library. */
export interface LoadAttempt {
  /** The path or soname tried. */
  readonly path: string;
  /** dlopen's or the runtime's message. */
  readonly reason: string;
}

/** An opened library, with where it was found. */
export interface LoadedLibrary<T extends SymbolTable> extends NativeLibrary<T> {
  /** The spec it was opened from. */
  readonly spec: LibrarySpec<T>;
  /** The candidate that opened. */
  readonly opened: string;
  /** The real file mapped into the process (from /proc/self/maps), or the candidate. */
  readonly file: string;
}

/** The outcome of {@link openLibrary}. */
export type LoadResult<T extends SymbolTable> =
  | { readonly ok: true; readonly library: LoadedLibrary<T> }
  | { readonly ok: false; readonly attempts: readonly LoadAttempt[] };

function readEnv(name: string): string | undefined {
  const g = globalThis as {
    process?: { env: Record<string, string | undefined> };
    Deno?: { env: { get(k: string): string | undefined } };
  };
  try {
    return g.Deno ? g.Deno.env.get(name) : g.process?.env[name];
  } catch {
    // Deno without --allow-env: no override.
    return undefined;
  }
}

/** The file in /proc/self/maps whose name starts with `stem` (e.g. "liburing.so"). */
export function mappedFile(stem: string): string | undefined {
  try {
    for (const line of readFileSync("/proc/self/maps", "utf8").split("\n")) {
      const path = line.slice(line.indexOf("/"));
      if (line.includes("/") && path.slice(path.lastIndexOf("/") + 1).startsWith(stem)) return path;
    }
  } catch {
    // Not Linux, or /proc is not mounted.
  }
  return undefined;
}

/** Tries the env override, then each candidate, and binds the symbol table. */
export function openLibrary<T extends SymbolTable>(spec: LibrarySpec<T>): LoadResult<T> {
  const override = readEnv(spec.env);
  const candidates = override ? [override, ...spec.candidates] : spec.candidates;
  const attempts: LoadAttempt[] = [];
  for (const path of candidates) {
    try {
      const lib = runtime().open(path, spec.symbols);
      const base = path.slice(path.lastIndexOf("/") + 1);
      const stem = base.includes(".so") ? base.slice(0, base.indexOf(".so") + 3) : base;
      const file = mappedFile(stem) ?? path;
      return { ok: true, library: { ...lib, spec, opened: path, file } };
    } catch (e) {
      attempts.push({ path, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  return { ok: false, attempts };
}

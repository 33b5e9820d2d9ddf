/**
 * The Bun implementation of the runtime adapter, over `bun:ffi`.
 *
 * @module
 */
import type { NativeLibrary, NativeType, Runtime, SymbolSpec, SymbolTable, Symbols } from "./types.ts";

// Only the parts of bun:ffi that kernelkit uses, so that this file type-checks
// under `deno check` too.
interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, (...a: unknown[]) => unknown>; close(): void };
  ptr(view: ArrayBufferView, byteOffset?: number): number;
  toArrayBuffer(address: number, byteOffset: number, length: number): ArrayBuffer;
  CString: new (address: number) => { toString(): string };
}

const bunType: Record<NativeType, string> = {
  void: "void",
  bool: "bool",
  u8: "u8",
  i8: "i8",
  u16: "u16",
  i16: "i16",
  u32: "u32",
  i32: "i32",
  // The _fast variants return a number when the value is a safe integer.
  u64: "u64_fast",
  i64: "i64_fast",
  usize: "u64_fast",
  isize: "i64_fast",
  f64: "f64",
  ptr: "ptr",
  buffer: "ptr",
};

function describe(spec: SymbolSpec): { args: string[]; returns: string } {
  return { args: spec.args.map((t) => bunType[t]), returns: bunType[spec.returns] };
}

/** Bun returns null for a NULL pointer and a bigint for 64-bit values past 2^53. */
function wrap(spec: SymbolSpec, fn: (...a: unknown[]) => unknown): (...a: unknown[]) => unknown {
  switch (spec.returns) {
    case "ptr":
      return (...a) => (fn(...a) as number | null) ?? 0;
    case "u64":
    case "i64":
    case "usize":
    case "isize":
      return (...a) => {
        const r = fn(...a);
        return typeof r === "bigint" ? Number(r) : r;
      };
    default:
      return fn;
  }
}

/** Creates the Bun adapter. Call only when running under Bun. */
export function createBunRuntime(): Runtime {
  const ffi = (import.meta as unknown as { require(id: string): BunFfi }).require("bun:ffi");
  const version = (globalThis as unknown as { Bun: { version: string } }).Bun.version;
  return {
    name: "bun",
    version,
    open<T extends SymbolTable>(path: string, table: T): NativeLibrary<T> {
      const required: Record<string, { args: string[]; returns: string }> = {};
      for (const [name, spec] of Object.entries(table)) {
        if (!spec.optional) required[name] = describe(spec);
      }
      const handles = [ffi.dlopen(path, required)];
      const symbols: Record<string, unknown> = {};
      for (const [name, spec] of Object.entries(table)) {
        if (!spec.optional) {
          symbols[name] = wrap(spec, handles[0].symbols[name]);
          continue;
        }
        // bun:ffi fails the whole dlopen on a missing symbol, so optional
        // symbols are bound one handle each.
        try {
          const h = ffi.dlopen(path, { [name]: describe(spec) });
          handles.push(h);
          symbols[name] = wrap(spec, h.symbols[name]);
        } catch {
          symbols[name] = undefined;
        }
      }
      return {
        symbols: symbols as Symbols<T>,
        close: () => handles.forEach((h) => h.close()),
      };
    },
    view(address: number, length: number): ArrayBuffer {
      if (length === 0) return new ArrayBuffer(0);
      return ffi.toArrayBuffer(address, 0, length);
    },
    addressOf(view: ArrayBufferView): number {
      // JSC moves a small typed array's data out of the GC heap the first time
      // its buffer is materialized; do that before taking the address.
      void view.buffer;
      return ffi.ptr(view);
    },
    cstring(address: number): string {
      return address === 0 ? "" : new ffi.CString(address).toString();
    },
  };
}

/**
 * The Deno implementation of the runtime adapter, over `Deno.dlopen`.
 *
 * @module
 */
import type { NativeLibrary, NativeType, Runtime, SymbolSpec, SymbolTable, Symbols } from "./types.ts";

// Addresses are passed as usize numbers: measured here, that costs about 90 ns
// more per call than a bigint, and much less than building a PointerObject.
const denoType: Record<NativeType, Deno.NativeResultType> = {
  void: "void",
  bool: "bool",
  u8: "u8",
  i8: "i8",
  u16: "u16",
  i16: "i16",
  u32: "u32",
  i32: "i32",
  u64: "u64",
  i64: "i64",
  usize: "usize",
  isize: "isize",
  f64: "f64",
  ptr: "usize",
  buffer: "buffer",
};

function describe(spec: SymbolSpec): Deno.ForeignFunction {
  return {
    parameters: spec.args.map((t) => denoType[t] as Deno.NativeType),
    // A pointer result comes back as a PointerObject; usize gives us the number.
    result: denoType[spec.returns],
    optional: spec.optional ?? false,
  };
}

/** Deno returns 64-bit results as bigint; kernelkit's boundary is numbers. */
function wrap(spec: SymbolSpec, fn: (...a: unknown[]) => unknown): (...a: unknown[]) => unknown {
  switch (spec.returns) {
    case "ptr":
    case "u64":
    case "i64":
    case "usize":
    case "isize":
      return (...a) => Number(fn(...a) as bigint);
    default:
      return fn;
  }
}

function pointer(address: number): Deno.PointerValue {
  return Deno.UnsafePointer.create(BigInt(address));
}

/** Creates the Deno adapter. Call only when running under Deno. */
export function createDenoRuntime(): Runtime {
  return {
    name: "deno",
    version: Deno.version.deno,
    open<T extends SymbolTable>(path: string, table: T): NativeLibrary<T> {
      const defs: Record<string, Deno.ForeignFunction> = {};
      for (const [name, spec] of Object.entries(table)) defs[name] = describe(spec);
      const lib = Deno.dlopen(path, defs);
      const raw = lib.symbols as unknown as Record<string, ((...a: unknown[]) => unknown) | null>;
      const symbols: Record<string, unknown> = {};
      for (const [name, spec] of Object.entries(table)) {
        const fn = raw[name];
        symbols[name] = fn ? wrap(spec, fn) : undefined;
      }
      return { symbols: symbols as Symbols<T>, close: () => lib.close() };
    },
    view(address: number, length: number): ArrayBuffer {
      if (length === 0) return new ArrayBuffer(0);
      return Deno.UnsafePointerView.getArrayBuffer(pointer(address)!, length);
    },
    addressOf(view: ArrayBufferView): number {
      return Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(view as Uint8Array<ArrayBuffer>)));
    },
    cstring(address: number): string {
      return address === 0 ? "" : Deno.UnsafePointerView.getCString(pointer(address)!);
    },
  };
}

/**
 * The one interface between kernelkit and a JS runtime's FFI.
 *
 * `bun.ts` and `deno.ts` implement it; nothing else in kernelkit knows which
 * runtime it runs in. Native addresses cross this boundary as JS numbers:
 * user-space addresses on x86-64 and aarch64 are below 2^47, so they are exact.
 *
 * @module
 */

/**
 * The C types a symbol table can name.
 *
 * - `ptr`: a native address, given and returned as a number (0 is NULL).
 * - `buffer`: JS memory (a typed array or DataView, or null) lent to the
 *   callee for the duration of the call only.
 * - 64-bit integers are given as a number or a bigint and returned as a number.
 */
export type NativeType =
  | "void"
  | "bool"
  | "u8"
  | "i8"
  | "u16"
  | "i16"
  | "u32"
  | "i32"
  | "u64"
  | "i64"
  | "usize"
  | "isize"
  | "f64"
  | "ptr"
  | "buffer";

/** One native function: its parameter and result types. */
export interface SymbolSpec {
  /** Parameter types, in C order. */
  readonly args: readonly NativeType[];
  /** Result type. */
  readonly returns: NativeType;
  /** When true, a library without this symbol still opens; the symbol is then undefined. */
  readonly optional?: boolean;
}

/** A library's symbol table: symbol name to prototype. */
export type SymbolTable = Readonly<Record<string, SymbolSpec>>;

/** JS memory that may be lent to a native call. */
export type BufferArg = ArrayBufferView | null;

type ArgOf<T extends NativeType> = T extends "buffer" ? BufferArg
  : T extends "ptr" ? number
  : number | bigint;

type Params<A extends readonly NativeType[]> = { -readonly [K in keyof A]: ArgOf<A[K]> };

/** The JS function for one symbol. */
export type NativeFunction<S extends SymbolSpec> = (
  ...args: Params<S["args"]>
) => S["returns"] extends "void" ? void : number;

/** The functions of an opened library, typed from its table. */
export type Symbols<T extends SymbolTable> = {
  readonly [K in keyof T]: T[K]["optional"] extends true ? NativeFunction<T[K]> | undefined
    : NativeFunction<T[K]>;
};

/** An opened native library. */
export interface NativeLibrary<T extends SymbolTable> {
  /** The functions, by symbol name. */
  readonly symbols: Symbols<T>;
  /** Unloads the library; its functions must not be called afterwards. */
  close(): void;
}

/** Which runtime an adapter drives. */
export type RuntimeName = "bun" | "deno";

/** The runtime adapter. */
export interface Runtime {
  /** Which runtime this is. */
  readonly name: RuntimeName;
  /** The runtime's version string. */
  readonly version: string;
  /**
   * dlopen()s a library by path or soname and binds its symbols.
   * Throws a plain Error carrying dlopen's message when it can't.
   */
  open<T extends SymbolTable>(path: string, table: T): NativeLibrary<T>;
  /**
   * An ArrayBuffer over native memory at `address` of `length` bytes. It does
   * not own the memory: the caller keeps the memory mapped while the view lives.
   */
  view(address: number, length: number): ArrayBuffer;
  /**
   * The native address of a typed array's first byte. Only for memory that
   * will not move: kernelkit takes it once, for memory it owns.
   */
  addressOf(view: ArrayBufferView): number;
  /** Reads the NUL-terminated string at `address` (an empty string for NULL). */
  cstring(address: number): string;
}

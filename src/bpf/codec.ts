/**
 * Codecs: how a JS value becomes the bytes of a BPF map key or value, and back.
 *
 * A map stores fixed-size byte strings; a codec gives them a type. Use
 * `codec.u32` for an array index, `codec.struct(layout)` for a C struct
 * declared with `ffi/layout.ts`, `codec.bytes(n)` for raw bytes, and
 * `codec.cidr4` / `codec.cidr6` (from `cidr.ts`) for LPM-trie keys.
 *
 * @module
 */
import type { Struct } from "../../ffi/layout.ts";

/** Encodes and decodes one fixed-size key or value. */
export interface Codec<T> {
  /** Bytes per key or value: must equal the map's key or value size. */
  readonly size: number;
  /** Writes `value` into `into` (exactly `size` bytes, zero-filled beforehand). */
  encode(value: T, into: Uint8Array): void;
  /** Reads a value from `bytes` (exactly `size` bytes; copy them to keep them). */
  decode(bytes: Uint8Array): T;
}

/** A decoded struct: each scalar field by its C member designator ("packets", "hdr.len"). */
export type StructValue = Record<string, number>;

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Raw bytes of a fixed size; decode returns a copy. */
function bytes(size: number): Codec<Uint8Array> {
  return {
    size,
    encode(value, into) {
      if (value.length !== size) throw new RangeError(`expected ${size} bytes, got ${value.length}`);
      into.set(value);
    },
    decode: (b) => b.slice(),
  };
}

function integer(size: 1 | 2 | 4 | 8, signed: boolean): Codec<number> {
  const range = signed ? [-(2 ** (size * 8 - 1)), 2 ** (size * 8 - 1) - 1] : [0, 2 ** (size * 8) - 1];
  const max = Math.min(range[1], Number.MAX_SAFE_INTEGER);
  const min = Math.max(range[0], Number.MIN_SAFE_INTEGER);
  return {
    size,
    encode(value, into) {
      if (!Number.isInteger(value) || value < min || value > max) {
        throw new RangeError(
          `${value} does not fit a ${signed ? "signed" : "unsigned"} ${size * 8}-bit integer`,
        );
      }
      const v = view(into);
      if (size === 1) v.setUint8(0, value & 0xff);
      else if (size === 2) v.setUint16(0, value & 0xffff, true);
      else if (size === 4) v.setUint32(0, value >>> 0, true);
      else v.setBigUint64(0, BigInt.asUintN(64, BigInt(value)), true);
    },
    decode(b) {
      const v = view(b);
      if (size === 1) return signed ? v.getInt8(0) : v.getUint8(0);
      if (size === 2) return signed ? v.getInt16(0, true) : v.getUint16(0, true);
      if (size === 4) return signed ? v.getInt32(0, true) : v.getUint32(0, true);
      return Number(signed ? v.getBigInt64(0, true) : v.getBigUint64(0, true));
    },
  };
}

/**
 * A C struct declared with `ffi/layout.ts`: decodes to an object of its
 * scalar fields (u64 as numbers, exact below 2^53); encodes from such an
 * object, where missing fields stay zero.
 */
function structOf(layout: Struct): Codec<StructValue> {
  const fields = layout.fields.filter((f) => f.type.kind === "scalar");
  const readers = fields.map((f) => [f.path, layout.reader(f.path)] as const);
  const writers = new Map(fields.map((f) => [f.path, layout.writer(f.path)] as const));
  return {
    size: layout.size,
    encode(value, into) {
      const v = view(into);
      for (const [path, x] of Object.entries(value)) {
        const w = writers.get(path);
        if (!w) throw new RangeError(`${layout.cName} has no scalar field ${path}`);
        w(v, 0, x);
      }
    },
    decode(b) {
      const v = view(b);
      const out: StructValue = {};
      for (const [path, r] of readers) out[path] = r(v, 0);
      return out;
    },
  };
}

/**
 * The value codec of a per-CPU map: one value per possible CPU, each padded
 * to 8 bytes as the kernel lays them out.
 */
export function perCpu<T>(element: Codec<T>, cpus: number): Codec<T[]> {
  const stride = Math.ceil(element.size / 8) * 8;
  return {
    size: stride * cpus,
    encode(values, into) {
      if (values.length !== cpus) {
        throw new RangeError(`expected ${cpus} per-CPU values, got ${values.length}`);
      }
      values.forEach((x, i) => element.encode(x, into.subarray(i * stride, i * stride + element.size)));
    },
    decode(b) {
      const out: T[] = [];
      for (let i = 0; i < cpus; i++) {
        out.push(element.decode(b.subarray(i * stride, i * stride + element.size)));
      }
      return out;
    },
  };
}

/** A value that {@link sum} can add up. */
export type Summable = number | bigint | StructValue;

/**
 * Adds up per-CPU values: numbers, bigints, or struct values field by field.
 * `sum([])` is 0.
 */
export function sum<T extends Summable>(values: readonly T[]): T {
  if (values.length === 0) return 0 as T;
  const first = values[0];
  if (typeof first === "number") {
    let n = 0;
    for (const v of values) n += v as number;
    return n as T;
  }
  if (typeof first === "bigint") {
    let n = 0n;
    for (const v of values) n += v as bigint;
    return n as T;
  }
  const out: StructValue = {};
  for (const v of values as readonly StructValue[]) {
    for (const [k, x] of Object.entries(v)) out[k] = (out[k] ?? 0) + x;
  }
  return out as T;
}

/** The built-in codecs. */
export const codec: {
  /** Raw bytes of a fixed size (the default for maps opened without codecs). */
  readonly bytes: (size: number) => Codec<Uint8Array>;
  /** `__u8` */
  readonly u8: Codec<number>;
  /** `__u16`, little-endian (host order on x86-64 and aarch64). */
  readonly u16: Codec<number>;
  /** `__u32`, host order: array indexes and most counters. */
  readonly u32: Codec<number>;
  /** `__s32` */
  readonly i32: Codec<number>;
  /** `__u64` as a number (exact below 2^53). */
  readonly u64: Codec<number>;
  /** A struct layout from `ffi/layout.ts`. */
  readonly struct: (layout: Struct) => Codec<StructValue>;
} = {
  bytes,
  u8: integer(1, false),
  u16: integer(2, false),
  u32: integer(4, false),
  i32: integer(4, true),
  u64: integer(8, false),
  struct: structOf,
};

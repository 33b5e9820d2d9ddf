/**
 * A small DSL for C struct layouts.
 *
 * Every kernel struct kernelkit touches is declared once with these builders, in
 * the order of its C header. The declaration computes size, alignment and field
 * offsets by the C rules of x86-64 and aarch64 (LP64), and hands out accessors
 * that read and write a field in a DataView at a base offset. 64-bit fields can
 * be written from a JS number as two u32 halves, so hot paths need no BigInt.
 *
 * `tests/layout.test.ts` checks every declaration against the real headers.
 *
 * @module
 */

/** The scalar kinds of the DSL; `ptr` is a 64-bit native address. */
export type ScalarKind =
  | "u8"
  | "i8"
  | "u16"
  | "i16"
  | "u32"
  | "i32"
  | "u64"
  | "i64"
  | "ptr";

/** A scalar C type. */
export interface ScalarType {
  /** Discriminant. */
  readonly kind: "scalar";
  /** Which scalar. */
  readonly scalar: ScalarKind;
  /** sizeof. */
  readonly size: number;
  /** _Alignof. */
  readonly align: number;
  /** True for the signed kinds. */
  readonly signed: boolean;
}

/** A fixed-length C array `T name[length]`; length 0 is a flexible array member. */
export interface ArrayType {
  /** Discriminant. */
  readonly kind: "array";
  /** The element type. */
  readonly element: Type;
  /** Element count (0 for a flexible array member). */
  readonly length: number;
  /** sizeof. */
  readonly size: number;
  /** _Alignof. */
  readonly align: number;
}

/** Any type the DSL can describe. */
export type Type = ScalarType | ArrayType | Struct;

/**
 * One member as declared: a name and a type. The name `""` declares an
 * anonymous struct or union (its members join the parent), or, for a scalar
 * or array type, unnamed padding such as C's `__u32 :32`.
 */
export type Member = readonly [name: string, type: Type];

/** Options of {@link struct} and {@link union}. */
export interface RecordOptions {
  /** `__attribute__((packed))`: no padding, alignment 1. */
  readonly packed?: boolean;
  /** The C spelling when it is not `struct <name>` (a typedef such as `Dl_info`). */
  readonly cName?: string;
}

/** A flattened field of a struct: its path, offset and type. */
export interface Field {
  /** The C member designator: `fd`, `sq_off.head`, `addr` (hoisted from an anonymous union). */
  readonly path: string;
  /** offsetof from the start of the outermost struct. */
  readonly offset: number;
  /** The field's type. */
  readonly type: Type;
}

/** Reads a field from a DataView at a base offset. */
export type Reader = (view: DataView, base: number) => number;
/** Writes a field into a DataView at a base offset. */
export type Writer = (view: DataView, base: number, value: number) => void;

const scalarInfo: Record<ScalarKind, [size: number, signed: boolean]> = {
  u8: [1, false],
  i8: [1, true],
  u16: [2, false],
  i16: [2, true],
  u32: [4, false],
  i32: [4, true],
  u64: [8, false],
  i64: [8, true],
  ptr: [8, false],
};

function scalar(kind: ScalarKind): ScalarType {
  const [size, signed] = scalarInfo[kind];
  return Object.freeze({ kind: "scalar", scalar: kind, size, align: size, signed });
}

/** `__u8` */
export const u8: ScalarType = scalar("u8");
/** `__s8` */
export const i8: ScalarType = scalar("i8");
/** `__u16` */
export const u16: ScalarType = scalar("u16");
/** `__s16` */
export const i16: ScalarType = scalar("i16");
/** `__u32` */
export const u32: ScalarType = scalar("u32");
/** `__s32` */
export const i32: ScalarType = scalar("i32");
/** `__u64` (and `__aligned_u64`) */
export const u64: ScalarType = scalar("u64");
/** `__s64` */
export const i64: ScalarType = scalar("i64");
/** A pointer (`void *`, `char *`). */
export const ptr: ScalarType = scalar("ptr");

/** `T[length]`; `array(T, 0)` declares a flexible array member. */
export function array(element: Type, length: number): ArrayType {
  if (!Number.isInteger(length) || length < 0) {
    throw new RangeError(`array length must be a non-negative integer, got ${length}`);
  }
  return Object.freeze({
    kind: "array",
    element,
    length,
    size: element.size * length,
    align: element.align,
  });
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/**
 * A struct or union layout: size, alignment, flattened fields and accessors.
 * Build one with {@link struct} or {@link union}.
 */
export class Struct {
  /** Discriminant. */
  readonly kind: "struct" | "union";
  /** The tag name (`io_uring_sqe`); empty for an anonymous member. */
  readonly name: string;
  /** How C spells the type, for the layout test. */
  readonly cName: string;
  /** sizeof. */
  readonly size: number;
  /** _Alignof. */
  readonly align: number;
  /** The members as declared. */
  readonly members: readonly Member[];
  /** Every field reachable by a C member designator, in declaration order. */
  readonly fields: readonly Field[];
  readonly #byPath: Map<string, Field>;

  /** Prefer {@link struct} and {@link union}. */
  constructor(
    kind: "struct" | "union",
    name: string,
    members: readonly Member[],
    options: RecordOptions = {},
  ) {
    this.kind = kind;
    this.name = name;
    this.cName = options.cName ?? `${kind} ${name}`;
    this.members = members;
    let offset = 0;
    let size = 0;
    let align = 1;
    const placed: Array<[string, number, Type]> = [];
    for (const [memberName, type] of members) {
      const a = options.packed ? 1 : type.align;
      const at = kind === "union" ? 0 : alignUp(offset, a);
      placed.push([memberName, at, type]);
      align = Math.max(align, a);
      offset = at + type.size;
      size = Math.max(size, offset);
    }
    this.align = align;
    this.size = alignUp(size, align);
    const fields: Field[] = [];
    for (const [memberName, at, type] of placed) flatten(fields, memberName, at, type);
    this.fields = fields;
    this.#byPath = new Map(fields.map((f) => [f.path, f]));
  }

  /** The field at a C member designator; throws on a name that isn't declared. */
  field(path: string): Field {
    const f = this.#byPath.get(path);
    if (!f) throw new RangeError(`${this.cName} has no field ${path}`);
    return f;
  }

  /** offsetof(struct, path). */
  offsetof(path: string): number {
    return this.field(path).offset;
  }

  /**
   * A reader for a scalar field. 64-bit fields are combined from two u32
   * halves into a number, exact below 2^53.
   */
  reader(path: string): Reader {
    const { offset: o, type } = this.scalarField(path);
    switch (type.scalar) {
      case "u8":
        return (v, b) => v.getUint8(b + o);
      case "i8":
        return (v, b) => v.getInt8(b + o);
      case "u16":
        return (v, b) => v.getUint16(b + o, true);
      case "i16":
        return (v, b) => v.getInt16(b + o, true);
      case "u32":
        return (v, b) => v.getUint32(b + o, true);
      case "i32":
        return (v, b) => v.getInt32(b + o, true);
      case "i64":
        return (v, b) => v.getUint32(b + o, true) + v.getInt32(b + o + 4, true) * 0x1_0000_0000;
      default:
        return (v, b) => v.getUint32(b + o, true) + v.getUint32(b + o + 4, true) * 0x1_0000_0000;
    }
  }

  /**
   * A writer for a scalar field. 64-bit fields take a number (a safe integer,
   * possibly negative) and store it as two u32 halves.
   */
  writer(path: string): Writer {
    const { offset: o, type } = this.scalarField(path);
    switch (type.size) {
      case 1:
        return (v, b, x) => v.setUint8(b + o, x);
      case 2:
        return (v, b, x) => v.setUint16(b + o, x, true);
      case 4:
        return (v, b, x) => v.setUint32(b + o, x >>> 0, true);
      default:
        return (v, b, x) => {
          v.setUint32(b + o, x >>> 0, true);
          v.setUint32(b + o + 4, Math.floor(x / 0x1_0000_0000) >>> 0, true);
        };
    }
  }

  /** Reads a scalar field (slow path; hot loops should keep a {@link reader}). */
  read(view: DataView, base: number, path: string): number {
    return this.reader(path)(view, base);
  }

  /** Writes a scalar field (slow path; hot loops should keep a {@link writer}). */
  write(view: DataView, base: number, path: string, value: number): void {
    this.writer(path)(view, base, value);
  }

  /** Reads a 64-bit field exactly, as a BigInt. */
  readBigInt(view: DataView, base: number, path: string): bigint {
    const { offset, type } = this.scalarField(path);
    if (type.size !== 8) throw new RangeError(`${this.cName}.${path} is not a 64-bit field`);
    return type.signed
      ? view.getBigInt64(base + offset, true)
      : view.getBigUint64(base + offset, true);
  }

  /** Writes a 64-bit field exactly from a BigInt. */
  writeBigInt(view: DataView, base: number, path: string, value: bigint): void {
    const { offset, type } = this.scalarField(path);
    if (type.size !== 8) throw new RangeError(`${this.cName}.${path} is not a 64-bit field`);
    view.setBigUint64(base + offset, BigInt.asUintN(64, value), true);
  }

  /** A zero-filled buffer of exactly sizeof bytes (times `count`). */
  alloc(count = 1): Uint8Array {
    return new Uint8Array(this.size * count);
  }

  /** The field at `path`; throws unless it is a scalar. */
  private scalarField(path: string): Field & { type: ScalarType } {
    const f = this.field(path);
    if (f.type.kind !== "scalar") {
      throw new RangeError(`${this.cName}.${path} is not a scalar field`);
    }
    return f as Field & { type: ScalarType };
  }
}

function flatten(out: Field[], name: string, offset: number, type: Type, prefix = ""): void {
  if (name === "") {
    // An unnamed scalar or array is padding (C's `__u32 :32`): it takes space, has no field.
    if (!(type instanceof Struct)) return;
    // An anonymous struct or union: its members are members of the parent.
    for (const f of type.fields) {
      out.push({ path: prefix + f.path, offset: offset + f.offset, type: f.type });
    }
    return;
  }
  const path = prefix + name;
  out.push({ path, offset, type });
  if (type instanceof Struct) {
    for (const f of type.fields) {
      out.push({ path: `${path}.${f.path}`, offset: offset + f.offset, type: f.type });
    }
  }
}

/** Declares `struct name { members }`. Use `""` as a member name for an anonymous member. */
export function struct(name: string, members: readonly Member[], options?: RecordOptions): Struct {
  return new Struct("struct", name, members, options);
}

/** Declares `union name { members }`. */
export function union(name: string, members: readonly Member[], options?: RecordOptions): Struct {
  return new Struct("union", name, members, options);
}

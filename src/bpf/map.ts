/**
 * BpfMap: a BPF map, read and written from JS through libbpf's bpf_map_*
 * wrappers, with typed keys and values (see `codec.ts`).
 *
 * A map comes from a loaded BpfObject (`object.map(name)`), from a pin on
 * bpffs (`BpfMap.openPinned`), or from another process by id or name
 * (`BpfMap.fromId`, `BpfMap.fromName`). The kernel keeps a map while any fd
 * or pin refers to it; closing a BpfMap releases only this process's fd.
 *
 * @module
 */
import {
  BPF_ANY,
  BPF_EXIST,
  bpf_map_info,
  BPF_MAP_TYPE_LRU_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE,
  BPF_MAP_TYPE_PERCPU_HASH,
  BPF_NOEXIST,
} from "../../ffi/structs/bpf.ts";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { bpf_map_batch_opts } from "../../ffi/structs/libbpf.ts";
import { KernelError } from "../errors.ts";
import { cString, libbpf, sys } from "../native.ts";
import { type Codec, codec, perCpu } from "./codec.ts";
import { checkLibbpf, decodeCString, libbpfError } from "./libbpf_call.ts";
import { mapTypeName } from "./names.ts";

/** How `set` treats an existing key: BPF_ANY, BPF_NOEXIST or BPF_EXIST. */
export type MapUpdateFlag = "any" | "noexist" | "exist";

const updateFlags: Record<MapUpdateFlag, number> = { any: BPF_ANY, noexist: BPF_NOEXIST, exist: BPF_EXIST };

/** The BPF_* value of an update flag; anything but "any", "noexist" and "exist" is EINVAL. */
function updateFlag(flag: MapUpdateFlag, syscall: string, map: string): number {
  if (typeof flag === "string" && Object.hasOwn(updateFlags, flag)) return updateFlags[flag];
  throw new KernelError({
    errno: ERRNO.EINVAL,
    syscall,
    message: `${syscall}(${map}): ${JSON.stringify(flag)} is not an update flag (EINVAL)`,
    hint: 'use "any" (the default), "noexist" or "exist"',
  });
}

/**
 * Encodes a key or value with its codec. One the codec refuses (a Uint8Array
 * of the wrong length, a number out of range) is a KernelError EINVAL naming
 * the call, like a wrong size the kernel itself refuses.
 */
function encodeWith<T>(
  c: Codec<T>,
  value: T,
  into: Uint8Array,
  what: "key" | "value",
  syscall: string,
  map: string,
): void {
  try {
    c.encode(value, into);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new KernelError({
      errno: ERRNO.EINVAL,
      syscall,
      message:
        `${syscall}(${map}): the ${what} does not fit the map's ${c.size}-byte ${what}s: ${e.message} (EINVAL)`,
      hint:
        `pass ${what}s of the map's layout (map.info gives keySize and valueSize), or open the map with codecs for them`,
      cause: e,
    });
  }
}

/** What the kernel says about a map (BPF_OBJ_GET_INFO_BY_FD). */
export interface MapInfo {
  /** The map's id, unique on this host while it exists. */
  readonly id: number;
  /** The name given at creation (at most 15 characters). */
  readonly name: string;
  /** BPF_MAP_TYPE_* value. */
  readonly type: number;
  /** The type's name without the prefix: "hash", "lpm_trie", "percpu_array". */
  readonly typeName: string;
  /** Bytes per key. */
  readonly keySize: number;
  /** Bytes per value (per CPU, for per-CPU maps). */
  readonly valueSize: number;
  /** Capacity. */
  readonly maxEntries: number;
  /** BPF_F_* creation flags. */
  readonly flags: number;
}

/** The codecs of a map's keys and values; either defaults to raw bytes. */
export interface MapCodecs<K, V> {
  /** Key codec; its size must equal the map's key size. */
  readonly key?: Codec<K>;
  /**
   * Value codec; its size must equal the value size, or, for a per-CPU map,
   * the value size of every possible CPU: use `perCpuValue(codec)`.
   */
  readonly value?: Codec<V>;
}

/** Shared by a map and the object that owns its fd: when the object closes, so does the map. */
export interface Lifetime {
  /** True once the owner has closed. */
  closed: boolean;
}

const perCpuTypes = new Set([
  BPF_MAP_TYPE_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE_LRU_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE,
]);

let cpus: number | undefined;

/** The number of possible CPUs (libbpf_num_possible_cpus): how many values a per-CPU map holds per key. */
export function possibleCpus(): number {
  cpus ??= checkLibbpf(libbpf().symbols.libbpf_num_possible_cpus(), "libbpf_num_possible_cpus");
  return cpus;
}

/** The value codec of a per-CPU map whose per-CPU value is `element`. */
export function perCpuValue<T>(element: Codec<T>): Codec<T[]> {
  return perCpu(element, possibleCpus());
}

/** Reads BPF_OBJ_GET_INFO_BY_FD of a map fd. */
export function mapInfo(fd: number): MapInfo {
  const info = bpf_map_info.alloc();
  const len = new Uint32Array([info.length]);
  checkLibbpf(libbpf().symbols.bpf_obj_get_info_by_fd(fd, info, len), "bpf_obj_get_info_by_fd", {
    subject: `map fd ${fd}`,
  });
  const v = new DataView(info.buffer);
  const r = (f: string) => bpf_map_info.read(v, 0, f);
  const nameAt = bpf_map_info.offsetof("name");
  const type = r("type");
  return {
    id: r("id"),
    name: decodeCString(info.subarray(nameAt, nameAt + 16)),
    type,
    typeName: mapTypeName(type),
    keySize: r("key_size"),
    valueSize: r("value_size"),
    maxEntries: r("max_entries"),
    flags: r("map_flags"),
  };
}

/**
 * A BPF map with keys of type K and values of type V.
 *
 * Every operation is one bpf() call (or one per batch). A map from a
 * BpfObject is usable until the object is closed; one opened by pin, id or
 * name owns its fd until `close()`.
 */
export class BpfMap<K = Uint8Array, V = Uint8Array> {
  /** What the kernel says about the map. */
  readonly info: MapInfo;
  /** True for per-CPU maps, whose values hold one entry per possible CPU. */
  readonly perCpu: boolean;
  readonly #key: Codec<K>;
  readonly #value: Codec<V>;
  readonly #owned: boolean;
  readonly #lifetime: Lifetime;
  #fd: number;
  #keyBuf: Uint8Array;
  #valueBuf: Uint8Array;

  /** Prefer `object.map()`, `BpfMap.openPinned`, `BpfMap.fromId` or `BpfMap.fromName`. */
  constructor(fd: number, codecs: MapCodecs<K, V>, options: { owned: boolean; lifetime?: Lifetime }) {
    this.#fd = fd;
    this.#owned = options.owned;
    this.#lifetime = options.lifetime ?? { closed: false };
    try {
      this.info = mapInfo(fd);
    } catch (e) {
      if (this.#owned) sys().close(fd);
      throw e;
    }
    this.perCpu = perCpuTypes.has(this.info.type);
    const valueBytes = this.perCpu
      ? Math.ceil(this.info.valueSize / 8) * 8 * possibleCpus()
      : this.info.valueSize;
    this.#key = (codecs.key ?? codec.bytes(this.info.keySize)) as Codec<K>;
    this.#value = (codecs.value ?? codec.bytes(valueBytes)) as Codec<V>;
    const mismatch = (what: string, got: number, want: number, extra = "") =>
      new KernelError({
        errno: ERRNO.EINVAL,
        syscall: "bpf_map_lookup_elem",
        message:
          `map "${this.info.name}" has ${want}-byte ${what}s, but the ${what} codec is ${got} bytes${extra}`,
        hint: "declare the key and value layouts to match the BPF program's map definition",
      });
    if (this.#key.size !== this.info.keySize) {
      if (this.#owned) sys().close(fd);
      throw mismatch("key", this.#key.size, this.info.keySize);
    }
    if (this.#value.size !== valueBytes) {
      if (this.#owned) sys().close(fd);
      throw mismatch(
        "value",
        this.#value.size,
        valueBytes,
        this.perCpu && this.#value.size === this.info.valueSize
          ? ": it is a per-CPU map, use perCpuValue(codec)"
          : "",
      );
    }
    this.#keyBuf = new Uint8Array(this.#key.size);
    this.#valueBuf = new Uint8Array(valueBytes);
    if (this.#owned) registry.register(this, fd, this);
  }

  /** Opens a map pinned on bpffs (bpf_obj_get). Throws ENOENT when nothing is pinned there. */
  static openPinned<K = Uint8Array, V = Uint8Array>(
    path: string,
    codecs: MapCodecs<K, V> = {},
  ): BpfMap<K, V> {
    const fd = checkLibbpf(libbpf().symbols.bpf_obj_get(cString(path, "bpf_obj_get")), "bpf_obj_get", {
      subject: path,
      hint: "check that bpffs is mounted and the map is pinned there (ls the path)",
    });
    return new BpfMap(fd, codecs, { owned: true });
  }

  /** Opens a map by its id (bpf_map_get_fd_by_id; needs CAP_SYS_ADMIN). */
  static fromId<K = Uint8Array, V = Uint8Array>(id: number, codecs: MapCodecs<K, V> = {}): BpfMap<K, V> {
    if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff) {
      throw new KernelError({
        errno: ERRNO.EINVAL,
        syscall: "bpf_map_get_fd_by_id",
        message: `bpf_map_get_fd_by_id: ${id} is not a map id (an integer from 1 to 2^32 - 1) (EINVAL)`,
        hint: "list the maps and their ids with `bpftool map`",
      });
    }
    // >>> 0 also turns -0 into 0, which Deno's FFI refuses for a u32.
    const fd = checkLibbpf(libbpf().symbols.bpf_map_get_fd_by_id(id >>> 0), "bpf_map_get_fd_by_id", {
      subject: `id ${id}`,
      hint: "list the maps with `bpftool map`; opening another process's map needs CAP_SYS_ADMIN",
    });
    return new BpfMap(fd, codecs, { owned: true });
  }

  /**
   * Opens the map with this name (the newest, when several share it), found by
   * walking the ids with bpf_map_get_next_id. Throws ENOENT when there is none.
   */
  static fromName<K = Uint8Array, V = Uint8Array>(name: string, codecs: MapCodecs<K, V> = {}): BpfMap<K, V> {
    const next = new Uint32Array(1);
    const { bpf_map_get_next_id, bpf_map_get_fd_by_id } = libbpf().symbols;
    let found = 0;
    let id = 0;
    while (bpf_map_get_next_id(id, next) === 0) {
      id = next[0];
      const fd = bpf_map_get_fd_by_id(id);
      if (fd < 0) continue; // gone meanwhile
      try {
        if (mapInfo(fd).name === name) found = id;
      } finally {
        sys().close(fd);
      }
    }
    if (found === 0) {
      throw new KernelError({
        errno: ERRNO.ENOENT,
        syscall: "bpf_map_get_next_id",
        message: `no BPF map named "${name}" is loaded`,
        hint: "list the maps with `bpftool map`; names are cut to 15 characters",
      });
    }
    return BpfMap.fromId(found, codecs);
  }

  /** The map's fd; throws EBADF after close. */
  get fd(): number {
    if (this.#fd < 0 || this.#lifetime.closed) {
      throw new KernelError({
        errno: ERRNO.EBADF,
        syscall: "bpf_map",
        message: `map "${this.info.name}" is closed${this.#owned ? "" : " (its BpfObject was closed)"}`,
      });
    }
    return this.#fd;
  }

  #encodeKey(key: K, syscall: string): Uint8Array {
    this.#keyBuf.fill(0);
    encodeWith(this.#key, key, this.#keyBuf, "key", syscall, this.info.name);
    return this.#keyBuf;
  }

  /** The value at `key`, or undefined when there is none (one value per possible CPU for per-CPU maps). */
  get(key: K): V | undefined {
    const fd = this.fd;
    const ret = libbpf().symbols.bpf_map_lookup_elem(
      fd,
      this.#encodeKey(key, "bpf_map_lookup_elem"),
      this.#valueBuf,
    );
    if (ret === -ERRNO.ENOENT) return undefined;
    checkLibbpf(ret, "bpf_map_lookup_elem", { subject: this.info.name });
    return this.#value.decode(this.#valueBuf);
  }

  /** True when `key` has a value. */
  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  /**
   * Stores `value` at `key`. `flag` "noexist" fails with EEXIST when the key
   * exists, "exist" with ENOENT when it doesn't; "any" (the default) does both.
   */
  set(key: K, value: V, flag: MapUpdateFlag = "any"): void {
    const fd = this.fd;
    const flags = updateFlag(flag, "bpf_map_update_elem", this.info.name);
    const k = this.#encodeKey(key, "bpf_map_update_elem");
    this.#valueBuf.fill(0);
    encodeWith(this.#value, value, this.#valueBuf, "value", "bpf_map_update_elem", this.info.name);
    const ret = libbpf().symbols.bpf_map_update_elem(fd, k, this.#valueBuf, flags);
    if (ret < 0) {
      const hint = ret === -ERRNO.EEXIST
        ? 'the key exists and the flag was "noexist"'
        : ret === -ERRNO.ENOENT
        ? 'the key does not exist and the flag was "exist"'
        : ret === -ERRNO.E2BIG
        ? `the map is full (${this.info.maxEntries} entries)`
        : undefined;
      throw libbpfError(-ret, "bpf_map_update_elem", { subject: this.info.name, hint });
    }
  }

  /** Deletes `key`; returns false when it wasn't there. Array maps can't delete (EINVAL). */
  delete(key: K): boolean {
    const fd = this.fd;
    const ret = libbpf().symbols.bpf_map_delete_elem(fd, this.#encodeKey(key, "bpf_map_delete_elem"));
    if (ret === -ERRNO.ENOENT) return false;
    checkLibbpf(ret, "bpf_map_delete_elem", { subject: this.info.name });
    return true;
  }

  /** The keys, walked with bpf_map_get_next_key (a key deleted meanwhile may restart the walk in hash maps). */
  *keys(): IterableIterator<K> {
    const cur = new Uint8Array(this.info.keySize);
    const next = new Uint8Array(this.info.keySize);
    let first = true;
    for (;;) {
      const ret = libbpf().symbols.bpf_map_get_next_key(this.fd, first ? null : cur, next);
      if (ret === -ERRNO.ENOENT) return;
      checkLibbpf(ret, "bpf_map_get_next_key", { subject: this.info.name });
      first = false;
      cur.set(next);
      yield this.#key.decode(next);
    }
  }

  /** Key and value pairs, by walking the keys (values are read one call each). */
  *entries(): IterableIterator<[K, V]> {
    for (const k of this.keys()) {
      const v = this.get(k);
      if (v !== undefined) yield [k, v];
    }
  }

  /** Same as {@link entries}. */
  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /**
   * Every entry, read with BPF_MAP_LOOKUP_BATCH in chunks of `chunk` (one
   * bpf() call per chunk). Maps without batch support (LPM tries, kernels
   * before 5.6) fall back to {@link entries}.
   */
  readAll(chunk = 256): Array<[K, V]> {
    const fd = this.fd;
    // A chunk of 0 reads nothing and never reaches the end: the walk would spin forever.
    if (!Number.isInteger(chunk) || chunk < 1 || chunk > 0xffff_ffff) {
      throw new KernelError({
        errno: ERRNO.EINVAL,
        syscall: "bpf_map_lookup_batch",
        message:
          `bpf_map_lookup_batch(${this.info.name}): chunk ${chunk} is not a count of entries, 1 or more (EINVAL)`,
        hint: "leave it out for 256 entries per call",
      });
    }
    // More than the map can hold is never needed, and would only allocate (2^31 keys: gigabytes).
    chunk = Math.min(chunk, Math.max(1, this.info.maxEntries));
    const ks = this.info.keySize;
    const vs = this.#valueBuf.length;
    const keys = new Uint8Array(ks * chunk);
    const values = new Uint8Array(vs * chunk);
    const inTok = new Uint8Array(Math.max(ks, 8));
    const outTok = new Uint8Array(Math.max(ks, 8));
    const count = new Uint32Array(1);
    const opts = batchOpts();
    const out: Array<[K, V]> = [];
    for (let first = true;; first = false) {
      count[0] = chunk;
      const ret = libbpf().symbols.bpf_map_lookup_batch(
        fd,
        first ? null : inTok,
        outTok,
        keys,
        values,
        count,
        opts,
      );
      if (ret < 0 && ret !== -ERRNO.ENOENT) {
        if (first && unsupported(ret)) return [...this.entries()];
        checkLibbpf(ret, "bpf_map_lookup_batch", { subject: this.info.name });
      }
      for (let i = 0; i < count[0]; i++) {
        out.push([
          this.#key.decode(keys.subarray(i * ks, (i + 1) * ks)),
          this.#value.decode(values.subarray(i * vs, (i + 1) * vs)),
        ]);
      }
      if (ret === -ERRNO.ENOENT) return out;
      inTok.set(outTok);
    }
  }

  /**
   * Stores many entries with one BPF_MAP_UPDATE_BATCH call (kernel 5.6);
   * maps without batch support take one call per entry.
   */
  setAll(entries: Iterable<readonly [K, V]>, flag: MapUpdateFlag = "any"): void {
    const list = [...entries];
    if (list.length === 0) return;
    const fd = this.fd; // a closed map is EBADF before anything else
    const syscall = "bpf_map_update_batch";
    const flags = updateFlag(flag, syscall, this.info.name);
    const ks = this.info.keySize;
    const vs = this.#valueBuf.length;
    const keys = new Uint8Array(ks * list.length);
    const values = new Uint8Array(vs * list.length);
    list.forEach(([k, v], i) => {
      encodeWith(this.#key, k, keys.subarray(i * ks, (i + 1) * ks), "key", syscall, this.info.name);
      encodeWith(this.#value, v, values.subarray(i * vs, (i + 1) * vs), "value", syscall, this.info.name);
    });
    const count = new Uint32Array([list.length]);
    const opts = batchOpts(flags);
    const ret = libbpf().symbols.bpf_map_update_batch(fd, keys, values, count, opts);
    if (ret < 0 && unsupported(ret)) {
      for (const [k, v] of list) this.set(k, v, flag);
      return;
    }
    checkLibbpf(ret, "bpf_map_update_batch", {
      subject: `${this.info.name}, ${count[0]} of ${list.length} stored`,
    });
  }

  /**
   * Deletes many keys with one BPF_MAP_DELETE_BATCH call; returns how many
   * were deleted. Maps without batch support take one call per key.
   */
  deleteAll(keys: Iterable<K>): number {
    const list = [...keys];
    if (list.length === 0) return 0;
    const fd = this.fd; // a closed map is EBADF before anything else
    const ks = this.info.keySize;
    const buf = new Uint8Array(ks * list.length);
    list.forEach((k, i) =>
      encodeWith(
        this.#key,
        k,
        buf.subarray(i * ks, (i + 1) * ks),
        "key",
        "bpf_map_delete_batch",
        this.info.name,
      )
    );
    const count = new Uint32Array([list.length]);
    const ret = libbpf().symbols.bpf_map_delete_batch(fd, buf, count, batchOpts());
    if (ret < 0 && unsupported(ret)) return list.filter((k) => this.delete(k)).length;
    if (ret === -ERRNO.ENOENT) return count[0];
    checkLibbpf(ret, "bpf_map_delete_batch", { subject: this.info.name });
    return count[0];
  }

  /**
   * Pins the map at `path` on bpffs (bpf_obj_pin), so that it outlives this
   * process and other processes can open it. Remove the file to unpin.
   */
  pin(path: string): void {
    checkLibbpf(libbpf().symbols.bpf_obj_pin(this.fd, cString(path, "bpf_obj_pin")), "bpf_obj_pin", {
      subject: path,
      hint: "bpffs must be mounted (mount -t bpf bpf /sys/fs/bpf) and the path must not exist yet",
    });
  }

  /** Releases this process's fd (only for maps it opened; an object's maps close with the object). Closing twice is harmless. */
  close(): void {
    if (this.#fd < 0) return;
    if (this.#owned) {
      registry.unregister(this);
      sys().close(this.#fd);
    }
    this.#fd = -1;
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

const registry = new FinalizationRegistry<number>((fd) => {
  try {
    sys().close(fd);
  } catch {
    // Best effort: the backstop must never throw.
  }
});

function batchOpts(elemFlags = 0): Uint8Array {
  const o = bpf_map_batch_opts.alloc();
  const v = new DataView(o.buffer);
  bpf_map_batch_opts.write(v, 0, "sz", o.length);
  bpf_map_batch_opts.write(v, 0, "elem_flags", elemFlags);
  return o;
}

/** The kernel's answers for "this map type has no batch operations". */
function unsupported(ret: number): boolean {
  return ret === -524 /* ENOTSUPP, kernel-internal */ || ret === -ERRNO.EINVAL || ret === -ERRNO.EOPNOTSUPP;
}

/**
 * `mapMemory`: anonymous memory from mmap, backed by the pages you choose,
 * as a `Mapping` you close.
 *
 * @module
 */
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_HUGE_1GB,
  MAP_HUGE_2MB,
  MAP_HUGETLB,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MFD_CLOEXEC,
  MFD_HUGE_1GB,
  MFD_HUGE_2MB,
  MFD_HUGETLB,
  PROT_READ,
  PROT_WRITE,
} from "../../ffi/structs/mman.ts";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { KernelError, notSupported } from "../errors.ts";
import { check, cString, errno, sys } from "../native.ts";
import { type HugePagePool, requirePool } from "../system/hugepages.ts";
import { thp } from "../system/thp.ts";
import { type Advice, applyAdvice } from "./advice.ts";
import {
  alignUp,
  closeRegion,
  mmapChecked,
  pageSize,
  populateRange,
  type RegionState,
  releaseRegion,
  reserveRegion,
  trackOwner,
  viewRegion,
} from "./region.ts";
import { type Residency, residencyOf } from "./residency.ts";

/**
 * What backs a mapping:
 * - `"default"`: whatever the host's THP policy gives ordinary memory;
 * - `"transparent"`: transparent huge pages (MADV_HUGEPAGE), the range aligned
 *   to the THP size. No pool needed; the kernel uses huge pages when it finds
 *   free 2 MiB blocks, and small pages otherwise (see `residency()`);
 * - `"small"`: never huge pages (MADV_NOHUGEPAGE);
 * - `"2MB"`, `"1GB"`: hugetlb pages from the host's pool of that size
 *   (MAP_HUGETLB). The pool must hold enough free pages: `hugePages.reserve()`.
 */
export type PageBacking = "default" | "transparent" | "small" | "2MB" | "1GB";

/** Options of {@link mapMemory}. */
export interface MapMemoryOptions {
  /** What backs the mapping; `"default"` when absent. */
  readonly pages?: PageBacking;
  /** Fault every page in now (MAP_POPULATE for hugetlb, MADV_POPULATE_WRITE otherwise), so first touches don't fault. */
  readonly populate?: boolean;
  /** Lock the pages in RAM (mlock): needs CAP_IPC_LOCK or a large enough RLIMIT_MEMLOCK. */
  readonly lock?: boolean;
  /**
   * Back the mapping with a memfd (MAP_SHARED; with MFD_HUGETLB for "2MB" and
   * "1GB"), so that a Worker can map the same pages through {@link Mapping.path}.
   * Shared memory gets transparent huge pages only as the host's shmem_enabled
   * THP policy allows (see `thp.status().shmemEnabled`).
   */
  readonly shared?: boolean;
  /** The memfd's name, shown in /proc/self/maps as /memfd:<name>; "kernelkit" when absent. */
  readonly name?: string;
}

/** How a Mapping was made, for {@link Mapping}'s constructor. */
export interface MappingInit {
  /** The region it owns. */
  readonly state: RegionState;
  /** The requested size in bytes. */
  readonly size: number;
  /** Offset of the first byte of `bytes` from the start of the mapped range. */
  readonly delta: number;
  /** The backing asked for. */
  readonly pages: PageBacking;
  /** The size of the pages that back it (small page size, or the hugetlb size). */
  readonly pageSize: number;
  /** True when MAP_SHARED. */
  readonly shared: boolean;
  /** What populate() asks for: write faults for memory, read faults for files. */
  readonly populateWith: "populate-read" | "populate-write";
  /** How errors name the mapping. */
  readonly subject: string;
}

/**
 * Memory mapped into this process. Close it (or `using` it) when done: close()
 * gives the memory back at once.
 *
 * A view taken before close() (`bytes`, or a typed array over its buffer) stays
 * safe to use: it reads zeros, and its addresses are unmapped when it is
 * garbage-collected. A Mapping that is never closed is closed when it and its
 * views are collected, as a backstop.
 */
export class Mapping {
  /** The requested size in bytes: `bytes.length`. */
  readonly size: number;
  /** What backs the mapping, as asked for. */
  readonly pages: PageBacking;
  /** The size of the pages that back it: 4096, or the hugetlb size for "2MB" and "1GB". */
  readonly pageSize: number;
  /** True when the pages are shared with other mappings of the same object (MAP_SHARED). */
  readonly shared: boolean;
  readonly #state: RegionState;
  readonly #delta: number;
  readonly #populateWith: "populate-read" | "populate-write";
  readonly #subject: string;
  #bytes: Uint8Array | undefined;

  /** Use {@link mapMemory} or `mapFile()`; this takes ownership of `init.state`. */
  constructor(init: MappingInit) {
    this.#state = init.state;
    this.size = init.size;
    this.#delta = init.delta;
    this.pages = init.pages;
    this.pageSize = init.pageSize;
    this.shared = init.shared;
    this.#populateWith = init.populateWith;
    this.#subject = init.subject;
    trackOwner(this, init.state);
  }

  /** The mapped bytes. Throws a KernelError (EBADF) after close(). */
  get bytes(): Uint8Array {
    this.assertOpen("mmap");
    this.#bytes ??= new Uint8Array(viewRegion(this.#state, this.#subject), this.#delta, this.size);
    return this.#bytes;
  }

  /** The native address of `bytes[0]` (0 for an empty mapping). */
  get address(): number {
    return this.#state.length === 0 ? 0 : this.#state.address + this.#delta;
  }

  /** True once close() has run. */
  get closed(): boolean {
    return this.#state.closed;
  }

  /** The memfd of a shared mapping (open until close()), or undefined. */
  get fd(): number | undefined {
    return this.#state.fd >= 0 && !this.#state.closed ? this.#state.fd : undefined;
  }

  /**
   * Where a Worker of this process can map the same pages, for a shared
   * mapping: `/proc/self/fd/<memfd>`, for `mapFile(path, { mode: "rw" })`.
   * Map it before this mapping closes. Undefined for a private mapping.
   */
  get path(): string | undefined {
    const fd = this.fd;
    return fd === undefined ? undefined : `/proc/self/fd/${fd}`;
  }

  /** Gives the kernel advice about the whole mapping, in order (madvise). */
  advise(...advice: Advice[]): void {
    this.assertOpen("madvise");
    for (const a of advice) applyAdvice(this.#state.address, this.#state.length, a, this.#subject);
  }

  /** Locks the pages in RAM, faulting them in (mlock). Needs CAP_IPC_LOCK or enough RLIMIT_MEMLOCK. */
  lock(): void {
    this.assertOpen("mlock");
    if (this.#state.length === 0) return;
    if (sys().mlock(this.#state.address, this.#state.length) === 0) return;
    const e = errno();
    throw new KernelError({
      errno: e,
      syscall: "mlock",
      subject: this.#subject,
      hint: e === ERRNO.EPERM || e === ERRNO.ENOMEM || e === ERRNO.EAGAIN
        ? "locking needs CAP_IPC_LOCK or an RLIMIT_MEMLOCK (ulimit -l) as large as the mapping"
        : undefined,
    });
  }

  /** Undoes lock() (munlock). */
  unlock(): void {
    this.assertOpen("munlock");
    if (this.#state.length === 0) return;
    check(sys().munlock(this.#state.address, this.#state.length), "munlock", { subject: this.#subject });
  }

  /** Faults every page in now, so that first touches don't (MADV_POPULATE_WRITE, or _READ for files). */
  populate(): void {
    this.assertOpen("madvise");
    populateRange(this.#state.address, this.#populatedLength(), this.#populateWith, this.#subject);
  }

  /** What backs the mapped range now, from /proc/self/smaps (all zero after close). */
  residency(): Residency {
    return residencyOf(
      this.#state.closed ? 0 : this.#state.address,
      this.#state.closed ? 0 : this.#state.length,
    );
  }

  /**
   * Gives the memory back. Views taken before read zeros from now on, and
   * using the Mapping throws a KernelError (EBADF). Closing twice is harmless.
   */
  close(): void {
    this.#bytes = undefined;
    closeRegion(this.#state);
  }

  /** Same as close(), for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** The mapped range that holds data: file mappings stop at the page after the last byte. */
  #populatedLength(): number {
    return Math.min(this.#state.length, alignUp(this.#delta + this.size, pageSize()));
  }

  /** Throws a KernelError (EBADF) naming `syscall` once closed. */
  protected assertOpen(syscall: string): void {
    if (!this.#state.closed) return;
    throw new KernelError({
      errno: ERRNO.EBADF,
      syscall,
      message: `${syscall}(${this.#subject}): the mapping is closed (EBADF)`,
      hint: "map it again; a closed mapping's views read zeros",
    });
  }

  /** The region, for subclasses. */
  protected get region(): RegionState {
    return this.#state;
  }
}

const MAX_SIZE = 2 ** 47;

/** 4194304 gives "4 MiB", 1000 gives "1000 bytes". */
function humanBytes(n: number): string {
  for (const [unit, scale] of [["GiB", 2 ** 30], ["MiB", 2 ** 20], ["KiB", 2 ** 10]] as const) {
    if (n >= scale && n % scale === 0) return `${n / scale} ${unit}`;
  }
  return `${n} bytes`;
}

function invalid(what: string, hint: string): KernelError {
  return new KernelError({
    errno: ERRNO.EINVAL,
    syscall: "mmap",
    message: `mmap (mapMemory): ${what}`,
    hint,
  });
}

/** Checks a size for mapMemory: a whole number of bytes, above 0, below the user address space. */
function checkSize(size: number): void {
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size <= 0) {
    throw invalid(
      `size ${String(size)} is not a positive whole number of bytes (EINVAL)`,
      "give the size in bytes, 1 or more",
    );
  }
  if (size > MAX_SIZE) {
    throw invalid(
      `size ${size} is larger than the 128 TiB user address space (EINVAL)`,
      "map less: x86-64 user space ends at 2^47",
    );
  }
}

const PAGES: readonly PageBacking[] = ["default", "transparent", "small", "2MB", "1GB"];

function poolShortHint(pool: HugePagePool, needed: number): string {
  const available = Math.max(0, pool.free - pool.reserved);
  const target = pool.total + Math.max(0, needed - available);
  return `the ${pool.size} hugetlb pool has ${available} free pages and this mapping needs ${needed}: reserve them as root with \`kernelkit hugepages reserve ${target} --size ${pool.size}\` (or hugePages.reserve("${pool.size}", ${target})), or use pages: "transparent", which needs no pool`;
}

/**
 * Maps `size` bytes of zeroed memory, backed as `options.pages` says.
 *
 * ```ts
 * using m = mapMemory(256 * 2 ** 20, { pages: "transparent", populate: true });
 * new Float64Array(m.bytes.buffer).fill(1);
 * console.log(m.residency().anonHugePages);
 * ```
 *
 * Throws a KernelError: EINVAL for a bad size (0, negative, NaN, past the
 * address space, or not a multiple of the hugetlb page size); ENOTSUP for a
 * page size the kernel has no pool for, or THP when the host has it off;
 * ENOMEM when a hugetlb pool is short, with a hint that says how to reserve.
 */
export function mapMemory(size: number, options: MapMemoryOptions = {}): Mapping {
  checkSize(size);
  const pages = options.pages ?? "default";
  if (!PAGES.includes(pages)) {
    throw invalid(
      `pages ${JSON.stringify(pages)} is not a backing (EINVAL)`,
      `use one of: ${PAGES.join(", ")}`,
    );
  }
  const hugetlb = pages === "2MB" || pages === "1GB";
  const pool = hugetlb ? requirePool(pages, "mmap") : undefined;
  let align = pageSize();
  if (pool) {
    if (size % pool.bytes !== 0) {
      throw invalid(
        `size ${size} is not a multiple of the ${pool.size} page size (EINVAL)`,
        `hugetlb mappings are whole pages: round up to ${Math.ceil(size / pool.bytes) * pool.bytes} bytes (${
          Math.ceil(size / pool.bytes)
        } × ${pool.size})`,
      );
    }
    align = pool.bytes;
  } else if (pages === "transparent") {
    const policy = thp.status();
    if (policy.enabled === "never") {
      throw notSupported(
        'transparent huge pages (THP enabled is "never" on this host)',
        "madvise",
        "select madvise or always as root: kernelkit thp set --enabled madvise",
      );
    }
    align = policy.pageSize;
  }
  const length = alignUp(size, align);
  const shared = options.shared === true;
  const subject = `${shared ? "shared " : ""}${humanBytes(size)} of ${pages} pages`;
  const state = reserveRegion(length, align, subject);
  try {
    let flags = MAP_FIXED | (shared ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS);
    let fd = -1;
    if (shared) {
      const mfd = pool ? MFD_HUGETLB | (pool.bytes === 2 ** 21 ? MFD_HUGE_2MB : MFD_HUGE_1GB) : 0;
      fd = check(
        sys().memfd_create(cString(options.name ?? "kernelkit", "memfd_create"), MFD_CLOEXEC | mfd),
        "memfd_create",
        {
          subject,
        },
      );
      state.fd = fd;
      check(sys().ftruncate(fd, length), "ftruncate", { subject });
    } else if (pool) {
      flags |= MAP_HUGETLB | (pool.bytes === 2 ** 21 ? MAP_HUGE_2MB : MAP_HUGE_1GB);
    }
    if (pool && options.populate) flags |= MAP_POPULATE;
    mmapChecked(
      sys().mmap(state.address, length, PROT_READ | PROT_WRITE, flags, fd, 0),
      { subject },
      (
        e,
      ) => (pool && e === ERRNO.ENOMEM
        ? new KernelError({
          errno: e,
          syscall: "mmap",
          subject,
          hint: poolShortHint(pool, length / pool.bytes),
        })
        : undefined),
    );
    if (pages === "transparent") applyAdvice(state.address, length, "hugepage", subject);
    if (pages === "small") applyAdvice(state.address, length, "nohugepage", subject);
    const mapping = new Mapping({
      state,
      size,
      delta: 0,
      pages,
      pageSize: pool ? pool.bytes : pageSize(),
      shared,
      populateWith: "populate-write",
      subject,
    });
    try {
      if (options.populate && !pool) mapping.populate();
      if (options.lock) mapping.lock();
    } catch (e) {
      mapping.close();
      throw e;
    }
    return mapping;
  } catch (e) {
    releaseRegion(state);
    throw e;
  }
}

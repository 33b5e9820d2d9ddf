/**
 * The life of one mapped range: reserving its addresses, the view over it,
 * and giving it back, without ever leaving a JS view over unmapped memory.
 *
 * A JS view over native memory can't be revoked: a Uint8Array taken before
 * close() still points at the range afterwards, and reading unmapped memory
 * kills the process with SIGSEGV, in Bun and in Deno. So close() doesn't
 * unmap a range that has a view. It maps anonymous zero pages over it
 * (MAP_FIXED | MAP_NORESERVE: the memory and the pool pages are freed at
 * once, and a stale view reads zeros), and the addresses are unmapped when the
 * view is garbage-collected. Neither runtime frees external memory when its
 * ArrayBuffer is collected (both were checked), so unmapping is ours to do.
 *
 * Each range has a PROT_NONE guard page on both sides. It keeps the kernel
 * from merging a neighbouring mapping into the range's VMAs, so that
 * /proc/self/smaps figures for the range are the range's own.
 *
 * @module
 */
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_NORESERVE,
  MAP_PRIVATE,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
} from "../../ffi/structs/mman.ts";
import { _SC_PAGESIZE } from "../../ffi/structs/unistd.ts";
import { runtime } from "../../ffi/runtime/mod.ts";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { KernelError, type KernelErrorInit } from "../errors.ts";
import { errno, sys } from "../native.ts";
import { applyAdvice } from "./advice.ts";

let smallPage: number | undefined;

/** The size of a small page (sysconf(_SC_PAGESIZE)), 4096 on x86-64. */
export function pageSize(): number {
  smallPage ??= sys().sysconf(_SC_PAGESIZE);
  return smallPage;
}

/** `n` rounded up to a multiple of `align` (a power of two); exact for addresses below 2^53. */
export function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

/** mmap's result, checked: MAP_FAILED is (void *) -1, which arrives as -1 or as 2^64 - 1. */
export function mmapChecked(
  ret: number,
  extra: Omit<KernelErrorInit, "errno" | "syscall">,
  onFail?: (errno: number) => KernelError | undefined,
): number {
  if (ret !== -1 && ret < 2 ** 63) return ret;
  const e = errno();
  throw onFail?.(e) ?? new KernelError({ ...extra, errno: e, syscall: "mmap" });
}

/** The native side of one mapping, shared by its owner and its view's finalizer. It never holds a JS view. */
export interface RegionState {
  /** The first address owned, the low guard page included. */
  readonly base: number;
  /** The bytes owned from base, both guard pages included. */
  readonly span: number;
  /** The first mapped address (aligned to the backing page size); 0 for an empty mapping. */
  readonly address: number;
  /** The mapped length (a multiple of the backing page size); 0 for an empty mapping. */
  readonly length: number;
  /** A file descriptor the mapping keeps open (a shared memfd), or -1. */
  fd: number;
  /** close() has run: the range holds anonymous zero pages, or nothing. */
  closed: boolean;
  /** The addresses were given back (munmap). */
  released: boolean;
  /** An ArrayBuffer over the range was handed out, so the range must stay mapped until it is collected. */
  viewed: boolean;
}

/**
 * Reserves `length` bytes of addresses aligned to `align`, with a PROT_NONE
 * guard page on each side. Map over [address, address + length) with MAP_FIXED.
 */
export function reserveRegion(length: number, align: number, subject: string): RegionState {
  const page = pageSize();
  const want = length + align + page;
  const flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
  const start = mmapChecked(sys().mmap(0, want, PROT_NONE, flags, -1, 0), { subject });
  const address = alignUp(start + page, align);
  const base = address - page;
  const end = address + length + page;
  if (base > start) sys().munmap(start, base - start);
  if (start + want > end) sys().munmap(end, start + want - end);
  return { base, span: end - base, address, length, fd: -1, closed: false, released: false, viewed: false };
}

/** An empty region: nothing mapped, nothing to give back. */
export function emptyRegion(): RegionState {
  return { base: 0, span: 0, address: 0, length: 0, fd: -1, closed: false, released: true, viewed: false };
}

function closeFd(state: RegionState): void {
  if (state.fd >= 0) sys().close(state.fd);
  state.fd = -1;
}

/** Unmaps the whole region (guards included) and closes its fd. Safe to call twice. */
export function releaseRegion(state: RegionState): void {
  if (state.released) return;
  state.released = true;
  state.closed = true;
  closeFd(state);
  if (state.span > 0) sys().munmap(state.base, state.span);
}

interface Held {
  readonly state: RegionState;
  readonly owner: boolean;
}

// Owners (Mapping objects) and views (ArrayBuffers) are both registered.
// An owner collected without close(): the mapping leaked. If it never handed
// out a view, release it now; otherwise a view may still be in use (the user
// kept `bytes` and dropped the Mapping), and the view's finalizer releases it.
// A view collected: the owner is gone or closed (it holds the view while
// open), so nothing can touch the range any more.
const registry = new FinalizationRegistry<Held>((held) => {
  try {
    if (!held.owner || !held.state.viewed) releaseRegion(held.state);
  } catch {
    // A finalizer has no one to report to; the process keeps running.
  }
});

/** Registers a mapping's owner object, so that a leaked mapping is released when the owner is collected. */
export function trackOwner(owner: object, state: RegionState): void {
  if (state.span > 0) registry.register(owner, { state, owner: true }, state);
}

/**
 * The ArrayBuffer over the region's mapped range, tracked so the range is
 * unmapped only after it is collected. A range larger than the runtime's
 * ArrayBuffers can be (Bun stops at 4 GiB) is a KernelError EOVERFLOW.
 */
export function viewRegion(state: RegionState, subject = "a mapping"): ArrayBuffer {
  if (state.length === 0) return new ArrayBuffer(0);
  let buffer: ArrayBuffer;
  try {
    buffer = runtime().view(state.address, state.length);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new KernelError({
      errno: ERRNO.EOVERFLOW,
      syscall: "mmap",
      message:
        `mmap(${subject}): the ${state.length}-byte range is mapped, but this runtime can't make an ArrayBuffer that large (${e.message}) (EOVERFLOW)`,
      hint:
        "map it in pieces of at most 4 GiB (mapFile with offset and length), or use Deno, whose views go further",
      cause: e,
    });
  }
  state.viewed = true;
  registry.register(buffer, { state, owner: false });
  return buffer;
}

/**
 * Closes a region: the memory (and any pool pages, memfd, lock) is given back
 * now. Without a view, the addresses are unmapped too; with one, they hold
 * zero pages until the view is collected. Safe to call twice.
 */
export function closeRegion(state: RegionState): void {
  if (state.closed) return;
  state.closed = true;
  registry.unregister(state);
  if (!state.viewed) {
    releaseRegion(state);
    return;
  }
  const flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE;
  const r = sys().mmap(state.address, state.length, PROT_READ | PROT_WRITE, flags, -1, 0);
  // If the zero mapping fails (the process hit vm.max_map_count), the old pages
  // stay mapped until the view is collected: wasteful, never a crash.
  void r;
  closeFd(state);
}

/** Faults [address, address + length) in with MADV_POPULATE_*, touching each page from JS on kernels before 5.14. */
export function populateRange(
  address: number,
  length: number,
  how: "populate-read" | "populate-write",
  subject: string,
): void {
  try {
    applyAdvice(address, length, how, subject);
  } catch (e) {
    if (!(e instanceof KernelError) || e.code !== "ENOTSUP") throw e;
    // One access per page does the same, a fault at a time. The view is used
    // within this call only, while the range is mapped.
    const pages = new Uint8Array(runtime().view(address, length));
    const write = how === "populate-write";
    let sink = 0;
    for (let i = 0; i < length; i += pageSize()) {
      if (write) pages[i] |= 0;
      else sink |= pages[i];
    }
    if (sink < 0) throw new Error("unreachable");
  }
}

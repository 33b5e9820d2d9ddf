/**
 * `mapFile`: a zero-copy view of a file, through the page cache.
 *
 * @module
 */
import { AT_EMPTY_PATH, O_CLOEXEC, O_RDONLY, O_RDWR } from "../../ffi/structs/fcntl.ts";
import {
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  MS_ASYNC,
  MS_SYNC,
  PROT_READ,
  PROT_WRITE,
} from "../../ffi/structs/mman.ts";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { S_IFDIR, S_IFMT, S_IFREG, statx, STATX_SIZE, STATX_TYPE } from "../../ffi/structs/stat.ts";
import { KernelError } from "../errors.ts";
import { check, cString, openExisting, sys } from "../native.ts";
import { hugePages } from "../system/hugepages.ts";
import { type Advice, applyAdvice } from "./advice.ts";
import { Mapping, type MappingInit } from "./mapping.ts";
import { alignUp, emptyRegion, mmapChecked, pageSize, releaseRegion, reserveRegion } from "./region.ts";

/** Options of {@link mapFile}. */
export interface MapFileOptions {
  /**
   * `"r"` (the default): the file is opened read-only. The view is writable,
   * but writes stay private to this process (copy-on-write) and never reach
   * the file; pages you don't write follow the file's changes.
   * `"rw"`: the file is opened read-write, and writes reach it (see `shared`).
   */
  readonly mode?: "r" | "rw";
  /** Where the view starts in the file, in bytes; any offset, not only page-aligned ones. Default 0. */
  readonly offset?: number;
  /** How many bytes to map; default: to the end of the file. offset + length can't pass the end. */
  readonly length?: number;
  /** For "rw": true (the default) writes go to the file (MAP_SHARED); false keeps them private (MAP_PRIVATE). */
  readonly shared?: boolean;
  /** Advice to give the range once mapped: "sequential", "random", "willneed", ... */
  readonly advice?: Advice | readonly Advice[];
}

/** How a FileMapping was made, for its constructor. */
export interface FileMappingInit extends MappingInit {
  /** The path opened. */
  readonly path: string;
  /** The file offset of `bytes[0]`. */
  readonly offset: number;
  /** The mode it was opened with. */
  readonly mode: "r" | "rw";
}

/**
 * A file mapped into memory. `bytes` is the file's content from `offset`, with
 * no copy. Close it when done. If another process truncates the file below the
 * view, touching the lost pages raises SIGBUS: the kernel gives no other answer.
 */
export class FileMapping extends Mapping {
  readonly #path: string;
  /** The file offset of `bytes[0]`. */
  readonly offset: number;
  /** "r" or "rw". */
  readonly mode: "r" | "rw";

  /** Use {@link mapFile}. */
  constructor(init: FileMappingInit) {
    super(init);
    this.#path = init.path;
    this.offset = init.offset;
    this.mode = init.mode;
  }

  /** The path that was mapped. */
  override get path(): string {
    return this.#path;
  }

  /**
   * Writes changed pages back to the file (msync; MS_SYNC waits for the
   * device, `{ wait: false }` only schedules it). A no-op for private views.
   */
  sync(options: { readonly wait?: boolean } = {}): void {
    this.assertOpen("msync");
    const r = this.region;
    if (r.length === 0) return;
    check(sys().msync(r.address, r.length, options.wait === false ? MS_ASYNC : MS_SYNC), "msync", {
      subject: this.path,
    });
  }
}

function badArgument(path: string, what: string, hint: string, errno: number = ERRNO.EINVAL): KernelError {
  return new KernelError({
    errno,
    syscall: "mmap",
    subject: path,
    message: `mmap(${path}) (mapFile): ${what}`,
    hint,
  });
}

const isCount = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

/** Type, size and block size of an open file (statx on the fd). */
function fileInfo(fd: number, path: string): { type: number; size: number; blksize: number } {
  const buf = statx.alloc();
  check(sys().statx(fd, cString(""), AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE, buf), "statx", {
    subject: path,
  });
  const view = new DataView(buf.buffer);
  return {
    type: statx.read(view, 0, "stx_mode") & S_IFMT,
    size: statx.read(view, 0, "stx_size"),
    blksize: statx.read(view, 0, "stx_blksize"),
  };
}

/**
 * Maps a file. Offsets that are not page-aligned are handled here: the
 * mapping starts at the page before, and `bytes` starts at `offset`. An empty
 * file (or length 0) gives an empty view, with nothing mapped.
 *
 * ```ts
 * using f = mapFile("data.bin", { mode: "rw" });
 * f.bytes[0] = 1;
 * f.sync();
 * ```
 *
 * Throws a KernelError: ENOENT, EACCES and friends from open(); EISDIR or
 * ENODEV for what is not a regular file; EINVAL for an offset or length that
 * is negative, not whole, or past the end of the file.
 */
export function mapFile(path: string, options: MapFileOptions = {}): FileMapping {
  const mode = options.mode ?? "r";
  if (mode !== "r" && mode !== "rw") {
    throw badArgument(path, `mode ${JSON.stringify(mode)} is not "r" or "rw" (EINVAL)`, 'use "r" or "rw"');
  }
  const offset = options.offset ?? 0;
  if (!isCount(offset)) {
    throw badArgument(
      path,
      `offset ${String(offset)} is not a whole number of bytes, 0 or more (EINVAL)`,
      "give a byte offset",
    );
  }
  if (options.length !== undefined && !isCount(options.length)) {
    throw badArgument(
      path,
      `length ${String(options.length)} is not a whole number of bytes, 0 or more (EINVAL)`,
      "give a byte count, or leave it out to map to the end of the file",
    );
  }
  const advice = options.advice === undefined
    ? []
    : typeof options.advice === "string"
    ? [options.advice]
    : options.advice;
  const shared = mode === "rw" && options.shared !== false;
  const fd = openExisting(path, (mode === "rw" ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  try {
    const info = fileInfo(fd, path);
    if (info.type !== S_IFREG) {
      throw info.type === S_IFDIR
        ? badArgument(path, "is a directory (EISDIR)", "map a regular file", ERRNO.EISDIR)
        : badArgument(
          path,
          "is not a regular file (ENODEV)",
          "mapFile maps regular files (and memfds)",
          ERRNO.ENODEV,
        );
    }
    if (offset > info.size) {
      throw badArgument(
        path,
        `offset ${offset} is past the end of the ${info.size}-byte file (EINVAL)`,
        "map within the file",
      );
    }
    const length = options.length ?? info.size - offset;
    if (offset + length > info.size) {
      throw badArgument(
        path,
        `offset ${offset} + length ${length} is past the end of the ${info.size}-byte file (EINVAL)`,
        "touching pages past the end would raise SIGBUS: grow the file first (ftruncate), or map less",
      );
    }
    // hugetlbfs files (a hugetlb memfd) map in whole huge pages, and report
    // that size as their block size.
    const huge = hugePages.status().pools.some((p) => p.bytes === info.blksize);
    const align = huge ? info.blksize : pageSize();
    const start = Math.floor(offset / align) * align;
    const delta = offset - start;
    const common = {
      size: length,
      delta,
      pages: huge ? (info.blksize === 2 ** 30 ? "1GB" : "2MB") : "default",
      pageSize: align,
      shared,
      populateWith: "populate-read",
      subject: path,
      path,
      offset,
      mode,
    } as const;
    if (length === 0) return new FileMapping({ ...common, delta: 0, state: emptyRegion() });
    const mapped = alignUp(delta + length, align);
    const state = reserveRegion(mapped, align, path);
    try {
      // Read-only files are mapped private and writable, so a stray write from
      // JS copies the page instead of killing the process with SIGSEGV.
      const flags = MAP_FIXED | (shared ? MAP_SHARED : MAP_PRIVATE);
      mmapChecked(sys().mmap(state.address, mapped, PROT_READ | PROT_WRITE, flags, fd, start), {
        subject: path,
      });
      for (const a of advice) applyAdvice(state.address, mapped, a, path);
    } catch (e) {
      releaseRegion(state);
      throw e;
    }
    return new FileMapping({ ...common, state });
  } finally {
    sys().close(fd);
  }
}

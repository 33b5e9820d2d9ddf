/**
 * In-kernel file copies: copy_file_range(2), which moves bytes between files
 * without a trip through user space and shares extents (reflink) where the
 * filesystem can (btrfs, XFS, NFS 4.2, overlayfs over those).
 *
 * @module
 */
import {
  AT_EMPTY_PATH,
  FICLONE,
  O_CLOEXEC,
  O_CREAT,
  O_RDONLY,
  O_TRUNC,
  O_WRONLY,
  SPLICE_F_MOVE,
} from "../../ffi/structs/fcntl.ts";
import { statx as statxLayout, STATX_MODE, STATX_SIZE } from "../../ffi/structs/stat.ts";
import { check, cString, sys } from "../native.ts";
import { sharedRing } from "../uring/files.ts";
import { CWD, type Ring } from "../uring/ring.ts";
import { defaultPipePool, type PipePool } from "./pipes.ts";
import { checkCount, transferLoop } from "./transfer.ts";

/** Options of {@link copyFileRange}. */
export interface CopyRangeOptions {
  /** Offset in the source. Default 0. */
  readonly inOffset?: number;
  /** Offset in the destination. Default 0. */
  readonly outOffset?: number;
  /** Bytes to copy. */
  readonly length: number;
}

/** Copies `length` bytes between two regular files with copy_file_range(2). Returns the bytes copied (fewer at end of input). */
export function copyFileRange(inFd: number, outFd: number, options: CopyRangeOptions): number {
  const offIn = new BigInt64Array([BigInt(checkCount("copy_file_range", "inOffset", options.inOffset ?? 0))]);
  const offOut = new BigInt64Array([BigInt(checkCount("copy_file_range", "outOffset", options.outOffset ?? 0))]);
  const length = checkCount("copy_file_range", "length", options.length);
  return transferLoop(
    { syscall: "copy_file_range", subject: `fd ${inFd} -> fd ${outFd}`, outFd, inFd },
    length,
    (max) => sys().copy_file_range(inFd, offIn, outFd, offOut, max, 0),
  );
}

function fileInfo(fd: number, path: string): { size: number; mode: number } {
  const buf = statxLayout.alloc();
  check(sys().statx(fd, cString(""), AT_EMPTY_PATH, STATX_SIZE | STATX_MODE, buf), "statx", { subject: path });
  const v = new DataView(buf.buffer);
  return { size: statxLayout.read(v, 0, "stx_size"), mode: statxLayout.read(v, 0, "stx_mode") };
}

/**
 * Copies the file `src` to `dst` (created or truncated, with `src`'s
 * permission bits) entirely in the kernel with copy_file_range, sharing
 * extents where the filesystem can. Returns the bytes copied.
 */
export function copyFileSync(src: string, dst: string): number {
  const input = check(sys().__open64_2(cString(src), O_RDONLY | O_CLOEXEC), "open", { subject: src });
  try {
    const { size, mode } = fileInfo(input, src);
    const output = check(sys().creat(cString(dst), mode & 0o7777), "open", { subject: dst });
    try {
      return copyFileRange(input, output, { length: size });
    } finally {
      sys().close(output);
    }
  } finally {
    sys().close(input);
  }
}

/** Options of {@link copyFileRangeAsync}. */
export interface CopyRangeAsyncOptions extends CopyRangeOptions {
  /** Cancels the copy. */
  readonly signal?: AbortSignal;
  /** Pipes to splice through; a shared pool when absent. */
  readonly pipes?: PipePool;
}

/**
 * The async form of {@link copyFileRange}: io_uring has no copy_file_range op,
 * so the ring splices file → pipe → file, still without a copy through user
 * space (but without reflink). Resolves with the bytes copied.
 */
export async function copyFileRangeAsync(ring: Ring, inFd: number, outFd: number, options: CopyRangeAsyncOptions): Promise<number> {
  const inOffset = checkCount("splice", "inOffset", options.inOffset ?? 0);
  const outOffset = checkCount("splice", "outOffset", options.outOffset ?? 0);
  const length = checkCount("splice", "length", options.length);
  const pool = options.pipes ?? defaultPipePool();
  const pipe = pool.acquire();
  let clean = true;
  try {
    let moved = 0;
    while (moved < length) {
      const n = await ring.splice(inFd, inOffset + moved, pipe.write, -1, Math.min(pipe.size, length - moved), SPLICE_F_MOVE, { signal: options.signal });
      if (n === 0) break;
      clean = false;
      for (let done = 0; done < n;) {
        const m = await ring.splice(pipe.read, -1, outFd, outOffset + moved + done, n - done, SPLICE_F_MOVE, { signal: options.signal });
        done += m;
      }
      clean = true;
      moved += n;
    }
    return moved;
  } finally {
    pool.release(pipe, clean);
  }
}

/** Options of {@link copyFile}. */
export interface CopyFileOptions {
  /** The ring; the shared ring of the file helpers when absent. */
  readonly ring?: Ring;
  /** Bytes per chunk; each lane splices one chunk at a time. Default 8 MiB. */
  readonly chunkSize?: number;
  /** Chunks in flight at once, each through its own pipe. Default 4. */
  readonly depth?: number;
  /** Cancels the copy. */
  readonly signal?: AbortSignal;
}

/**
 * Copies the file `src` to `dst` (created or truncated, with `src`'s
 * permission bits). Where the filesystem shares extents (btrfs, XFS, bcachefs,
 * overlayfs over them), the copy is a reflink (the FICLONE ioctl): no data is
 * read or written, and the two files share blocks until one is written.
 * Elsewhere the file is cut into chunks spliced file → pipe → file in
 * parallel through the ring, so no byte passes through JS and the event loop
 * never blocks. Resolves with the bytes copied.
 */
export async function copyFile(src: string, dst: string, options: CopyFileOptions = {}): Promise<number> {
  const ring = options.ring ?? sharedRing();
  const chunk = checkCount("splice", "chunkSize", options.chunkSize ?? 8 << 20, 1);
  const input = await ring.openat(CWD, src, O_RDONLY | O_CLOEXEC, 0, { signal: options.signal });
  try {
    const { size, mode } = await ring.statx(input, "", AT_EMPTY_PATH, STATX_SIZE | STATX_MODE);
    const output = await ring.openat(CWD, dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 0o7777, { signal: options.signal });
    try {
      // A reflink is a metadata operation, quick enough to make inline; any
      // failure (EOPNOTSUPP, EXDEV across filesystems, EINVAL) means copy the bytes.
      if (size > 0 && sys().ioctl(output, FICLONE, input) === 0) return size;
      let next = 0;
      let copied = 0;
      const lane = async () => {
        while (next * chunk < size) {
          const at = next++ * chunk;
          const length = Math.min(chunk, size - at);
          const n = await copyFileRangeAsync(ring, input, output, { inOffset: at, outOffset: at, length, signal: options.signal });
          copied += n;
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, options.depth ?? 4) }, lane));
      return copied;
    } finally {
      await ring.closeFd(output);
    }
  } finally {
    await ring.closeFd(input);
  }
}

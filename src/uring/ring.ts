/**
 * Ring: io_uring with one awaitable method per op, named and ordered like the
 * system call it stands for (`ring.read(fd, buf, offset)` is pread(2)).
 *
 * Ops started in one JS turn go to the kernel together, with one
 * io_uring_enter flushed from a microtask. Each op resolves with its result or
 * rejects with a KernelError named after it (errno = -res).
 *
 * @module
 */
import { unlendable, viewAddress } from "../../ffi/runtime/address.ts";
import { AT_FDCWD } from "../../ffi/structs/fcntl.ts";
import { open_how } from "../../ffi/structs/fcntl.ts";
import {
  IORING_FSYNC_DATASYNC,
  IORING_OP_CLOSE,
  IORING_OP_FADVISE,
  IORING_OP_FALLOCATE,
  IORING_OP_FSYNC,
  IORING_OP_LINK_TIMEOUT,
  IORING_OP_LINKAT,
  IORING_OP_MADVISE,
  IORING_OP_MKDIRAT,
  IORING_OP_NOP,
  IORING_OP_OPENAT,
  IORING_OP_OPENAT2,
  IORING_OP_POLL_ADD,
  IORING_OP_POLL_REMOVE,
  IORING_OP_READ,
  IORING_OP_READ_FIXED,
  IORING_OP_READV,
  IORING_OP_RENAMEAT,
  IORING_OP_SPLICE,
  IORING_OP_STATX,
  IORING_OP_SYMLINKAT,
  IORING_OP_TEE,
  IORING_OP_TIMEOUT,
  IORING_OP_TIMEOUT_REMOVE,
  IORING_OP_UNLINKAT,
  IORING_OP_WRITE,
  IORING_OP_WRITE_FIXED,
  IORING_OP_WRITEV,
  IORING_REGISTER_FILES,
  IORING_TIMEOUT_ABS,
  IORING_UNREGISTER_FILES,
} from "../../ffi/structs/io_uring.ts";
import { statx as statxLayout } from "../../ffi/structs/stat.ts";
import { KernelError } from "../errors.ts";
import { checkNegative, cString, liburing } from "../native.ts";
import { type OpOptions, RingCore } from "./core.ts";
import { FixedBuffers, iovecs, timespec } from "./memory.ts";
import { setBufIndex, setFileIndex } from "./sqe.ts";
import { type Statx, statxFrom } from "./statx.ts";

/** The directory fd meaning "the current working directory" (AT_FDCWD). */
export const CWD: number = AT_FDCWD;

const ETIME = 62;
const ECANCELED = 125;

function badBuffer(op: string, subject: string, why: string): KernelError {
  return new KernelError({ errno: 22, syscall: op, subject, hint: why });
}

/** Checks that `view` can be lent to the kernel for `length` bytes; returns its address. */
function lend(op: string, fd: number, view: ArrayBufferView, length: number): number {
  const why = unlendable(view);
  if (why) throw badBuffer(op, `fd ${fd}`, `the buffer can't be lent to the kernel: ${why}`);
  if (!Number.isInteger(length) || length < 0 || length > view.byteLength) {
    throw badBuffer(
      op,
      `fd ${fd}, ${length} bytes`,
      `the length must be an integer from 0 to the buffer's ${view.byteLength} bytes`,
    );
  }
  return viewAddress(view);
}

function checkOffset(op: string, offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < -1) {
    throw badBuffer(op, `offset ${offset}`, "the offset must be a safe integer >= 0, or -1 for the current position");
  }
}

/** Options of {@link Ring.timeout}. */
export interface TimeoutOptions extends OpOptions {
  /** Complete early once this many other completions have been posted. */
  readonly count?: number;
  /** `ms` is an absolute CLOCK_MONOTONIC time, not a delay. */
  readonly absolute?: boolean;
}

/** How to open a file with {@link Ring.openat2} (struct open_how). */
export interface OpenHow {
  /** O_* flags. */
  readonly flags: number;
  /** Permission bits for a created file. */
  readonly mode?: number;
  /** RESOLVE_* flags. */
  readonly resolve?: number;
}

/**
 * An io_uring with awaitable ops. Close it (or `await using`) when done:
 * closing cancels what is in flight and rejects it with ECANCELED.
 */
export class Ring extends RingCore {
  #fixed: FixedBuffers | undefined;

  /** IORING_OP_NOP: completes with 0; measures the ring itself. */
  nop(options?: OpOptions): Promise<number> {
    return this.submitOp(IORING_OP_NOP, -1, 0, 0, 0, 0, undefined, options);
  }

  /** pread(2): reads up to `length` bytes (default: the whole buffer) at `offset` (-1: the file position). */
  read(fd: number, buffer: ArrayBufferView, offset = -1, length: number = buffer.byteLength, options?: OpOptions): Promise<number> {
    const addr = lend("read", fd, buffer, length);
    checkOffset("read", offset);
    return this.submitOp(IORING_OP_READ, fd, offset, addr, length, 0, buffer, options);
  }

  /** pwrite(2): writes `length` bytes (default: the whole buffer) at `offset` (-1: the file position). */
  write(fd: number, buffer: ArrayBufferView, offset = -1, length: number = buffer.byteLength, options?: OpOptions): Promise<number> {
    const addr = lend("write", fd, buffer, length);
    checkOffset("write", offset);
    return this.submitOp(IORING_OP_WRITE, fd, offset, addr, length, 0, buffer, options);
  }

  /** preadv(2): scatters into `buffers` in order. */
  readv(fd: number, buffers: readonly ArrayBufferView[], offset = -1, options?: OpOptions): Promise<number> {
    checkOffset("readv", offset);
    const iov = iovecs("readv", fd, buffers, lend);
    return this.submitOp(IORING_OP_READV, fd, offset, viewAddress(iov), buffers.length, 0, [iov, buffers], options);
  }

  /** pwritev(2): gathers from `buffers` in order. */
  writev(fd: number, buffers: readonly ArrayBufferView[], offset = -1, options?: OpOptions): Promise<number> {
    checkOffset("writev", offset);
    const iov = iovecs("writev", fd, buffers, lend);
    return this.submitOp(IORING_OP_WRITEV, fd, offset, viewAddress(iov), buffers.length, 0, [iov, buffers], options);
  }

  /**
   * Registers buffers with the kernel (IORING_REGISTER_BUFFERS), pinning their
   * pages so that readFixed and writeFixed skip the per-op page mapping.
   * Prefer memory kernelkit maps (a BufferPool); JS heap memory works but stays
   * referenced until unregisterBuffers().
   */
  registerBuffers(buffers: readonly ArrayBufferView[]): void {
    this.assertOpen("io_uring_register");
    if (this.#fixed) {
      throw new KernelError({
        errno: 16,
        syscall: "io_uring_register",
        subject: "IORING_REGISTER_BUFFERS",
        hint: "buffers are already registered: call unregisterBuffers() first",
      });
    }
    this.#fixed = FixedBuffers.register(this.fd, buffers, lend);
  }

  /** Unregisters the buffers of registerBuffers(). */
  unregisterBuffers(): void {
    this.assertOpen("io_uring_register");
    if (!this.#fixed) return;
    this.#fixed.unregister(this.fd);
    this.#fixed = undefined;
  }

  /**
   * Registers files (IORING_REGISTER_FILES): an op with `{ fixedFile: true }`
   * then takes an index into `fds` instead of an fd, and skips the fd lookup.
   */
  registerFiles(fds: readonly number[]): void {
    this.assertOpen("io_uring_register");
    const table = Int32Array.from(fds);
    checkNegative(
      liburing().symbols.io_uring_register(this.fd, IORING_REGISTER_FILES, viewAddress(table), table.length),
      "io_uring_register",
      { subject: `IORING_REGISTER_FILES, ${fds.length} files` },
    );
  }

  /** Unregisters the files of registerFiles(). */
  unregisterFiles(): void {
    this.assertOpen("io_uring_register");
    checkNegative(
      liburing().symbols.io_uring_register(this.fd, IORING_UNREGISTER_FILES, 0, 0),
      "io_uring_register",
      { subject: "IORING_UNREGISTER_FILES" },
    );
  }

  #fixedIndex(op: string, fd: number, view: ArrayBufferView, length: number): [number, number] {
    const addr = lend(op, fd, view, length);
    const index = this.#fixed?.indexOf(addr, length) ?? -1;
    if (index < 0) {
      throw badBuffer(op, `fd ${fd}`, "the buffer is not inside a registered buffer: pass one given to registerBuffers()");
    }
    return [addr, index];
  }

  /** read into a registered buffer (IORING_OP_READ_FIXED). */
  readFixed(fd: number, buffer: ArrayBufferView, offset = -1, length: number = buffer.byteLength, options?: OpOptions): Promise<number> {
    const [addr, index] = this.#fixedIndex("read_fixed", fd, buffer, length);
    checkOffset("read_fixed", offset);
    return this.submitOp(IORING_OP_READ_FIXED, fd, offset, addr, length, 0, buffer, options, undefined, (s, i) => setBufIndex(s, i, index));
  }

  /** write from a registered buffer (IORING_OP_WRITE_FIXED). */
  writeFixed(fd: number, buffer: ArrayBufferView, offset = -1, length: number = buffer.byteLength, options?: OpOptions): Promise<number> {
    const [addr, index] = this.#fixedIndex("write_fixed", fd, buffer, length);
    checkOffset("write_fixed", offset);
    return this.submitOp(IORING_OP_WRITE_FIXED, fd, offset, addr, length, 0, buffer, options, undefined, (s, i) => setBufIndex(s, i, index));
  }

  /** fsync(2), or fdatasync(2) with `{ datasync: true }`. */
  fsync(fd: number, options?: OpOptions & { readonly datasync?: boolean }): Promise<number> {
    return this.submitOp(IORING_OP_FSYNC, fd, 0, 0, 0, options?.datasync ? IORING_FSYNC_DATASYNC : 0, undefined, options);
  }

  /** fdatasync(2). */
  fdatasync(fd: number, options?: OpOptions): Promise<number> {
    return this.fsync(fd, { ...options, datasync: true });
  }

  /** fallocate(2). */
  fallocate(fd: number, mode: number, offset: number, length: number, options?: OpOptions): Promise<number> {
    checkOffset("fallocate", offset);
    return this.submitOp(IORING_OP_FALLOCATE, fd, offset, length, mode, 0, undefined, options);
  }

  /** posix_fadvise(2). */
  fadvise(fd: number, offset: number, length: number, advice: number, options?: OpOptions): Promise<number> {
    checkOffset("fadvise", offset);
    return this.submitOp(IORING_OP_FADVISE, fd, offset, 0, length, advice, undefined, options);
  }

  /** madvise(2) over the memory of `view` (memory kernelkit mapped, such as a Mapping's bytes). */
  madvise(view: ArrayBufferView, advice: number, options?: OpOptions): Promise<number> {
    const addr = lend("madvise", -1, view, view.byteLength);
    return this.submitOp(IORING_OP_MADVISE, -1, 0, addr, view.byteLength, advice, view, options);
  }

  /** openat(2): resolves with the new fd. */
  openat(dirfd: number, path: string, flags: number, mode = 0o644, options?: OpOptions): Promise<number> {
    const p = cString(path);
    return this.submitOp(IORING_OP_OPENAT, dirfd, 0, viewAddress(p), mode, flags, p, options, path);
  }

  /** openat2(2): resolves with the new fd. */
  openat2(dirfd: number, path: string, how: OpenHow, options?: OpOptions): Promise<number> {
    const p = cString(path);
    const h = open_how.alloc();
    const v = new DataView(h.buffer);
    open_how.write(v, 0, "flags", how.flags);
    open_how.write(v, 0, "mode", how.mode ?? 0);
    open_how.write(v, 0, "resolve", how.resolve ?? 0);
    return this.submitOp(IORING_OP_OPENAT2, dirfd, viewAddress(h), viewAddress(p), open_how.size, 0, [p, h], options, path);
  }

  /** close(2) of `fd` (IORING_OP_CLOSE). `ring.close()` closes the ring itself. */
  closeFd(fd: number, options?: OpOptions): Promise<number> {
    return this.submitOp(IORING_OP_CLOSE, fd, 0, 0, 0, 0, undefined, options);
  }

  /** statx(2): resolves with the file's attributes. */
  async statx(dirfd: number, path: string, flags = 0, mask = 0xfff, options?: OpOptions): Promise<Statx> {
    const p = cString(path);
    const out = statxLayout.alloc();
    await this.submitOp(IORING_OP_STATX, dirfd, viewAddress(out), viewAddress(p), mask, flags, [p, out], options, path);
    return statxFrom(new DataView(out.buffer));
  }

  /** unlinkat(2). */
  unlinkat(dirfd: number, path: string, flags = 0, options?: OpOptions): Promise<number> {
    const p = cString(path);
    return this.submitOp(IORING_OP_UNLINKAT, dirfd, 0, viewAddress(p), 0, flags, p, options, path);
  }

  /** renameat2(2). */
  renameat(oldDirfd: number, oldPath: string, newDirfd: number, newPath: string, flags = 0, options?: OpOptions): Promise<number> {
    const a = cString(oldPath);
    const b = cString(newPath);
    return this.submitOp(IORING_OP_RENAMEAT, oldDirfd, viewAddress(b), viewAddress(a), newDirfd, flags, [a, b], options, `${oldPath} -> ${newPath}`);
  }

  /** mkdirat(2). */
  mkdirat(dirfd: number, path: string, mode = 0o755, options?: OpOptions): Promise<number> {
    const p = cString(path);
    return this.submitOp(IORING_OP_MKDIRAT, dirfd, 0, viewAddress(p), mode, 0, p, options, path);
  }

  /** symlinkat(2): creates `linkPath` (relative to `newDirfd`) pointing at `target`. */
  symlinkat(target: string, newDirfd: number, linkPath: string, options?: OpOptions): Promise<number> {
    const t = cString(target);
    const l = cString(linkPath);
    return this.submitOp(IORING_OP_SYMLINKAT, newDirfd, viewAddress(l), viewAddress(t), 0, 0, [t, l], options, linkPath);
  }

  /** linkat(2). */
  linkat(oldDirfd: number, oldPath: string, newDirfd: number, newPath: string, flags = 0, options?: OpOptions): Promise<number> {
    const a = cString(oldPath);
    const b = cString(newPath);
    return this.submitOp(IORING_OP_LINKAT, oldDirfd, viewAddress(b), viewAddress(a), newDirfd, flags, [a, b], options, `${oldPath} -> ${newPath}`);
  }

  /**
   * A timeout of `ms` milliseconds (IORING_OP_TIMEOUT). Resolves with 0 when
   * it expires or when `count` completions have been posted first.
   */
  timeout(ms: number, options?: TimeoutOptions): Promise<number> {
    const ts = timespec("timeout", ms);
    const flags = options?.absolute ? IORING_TIMEOUT_ABS : 0;
    return this.submitOp(IORING_OP_TIMEOUT, -1, options?.count ?? 0, viewAddress(ts), 1, flags, ts, options, `${ms} ms`, undefined, ETIME);
  }

  /**
   * A timeout for the op queued just before it with `{ link: "soft" }`
   * (IORING_OP_LINK_TIMEOUT). Resolves true if it fired (and canceled that
   * op), false if the op finished first.
   */
  async linkTimeout(ms: number, options?: OpOptions): Promise<boolean> {
    const ts = timespec("link_timeout", ms);
    try {
      await this.submitOp(IORING_OP_LINK_TIMEOUT, -1, 0, viewAddress(ts), 1, 0, ts, options, `${ms} ms`, undefined, ETIME);
      return true;
    } catch (e) {
      if (e instanceof KernelError && e.errno === ECANCELED && !options?.signal?.aborted) return false;
      throw e;
    }
  }

  /** poll(2) on one fd (IORING_OP_POLL_ADD): resolves with the ready events (POLLIN, ...). */
  pollAdd(fd: number, events: number, options?: OpOptions): Promise<number> {
    return this.submitOp(IORING_OP_POLL_ADD, fd, 0, 0, 0, events, undefined, options);
  }

  /** splice(2): moves `length` bytes between two fds, one of them a pipe; offsets -1 for pipes. */
  splice(fdIn: number, offIn: number, fdOut: number, offOut: number, length: number, flags = 0, options?: OpOptions): Promise<number> {
    checkOffset("splice", offIn);
    checkOffset("splice", offOut);
    return this.submitOp(IORING_OP_SPLICE, fdOut, offOut, offIn, length, flags, undefined, options, `fd ${fdIn} -> fd ${fdOut}`, (s, i) => setFileIndex(s, i, fdIn));
  }

  /** tee(2): duplicates `length` bytes from one pipe to another. */
  tee(fdIn: number, fdOut: number, length: number, flags = 0, options?: OpOptions): Promise<number> {
    return this.submitOp(IORING_OP_TEE, fdOut, 0, 0, length, flags, undefined, options, `fd ${fdIn} -> fd ${fdOut}`, (s, i) => setFileIndex(s, i, fdIn));
  }

  /** Timeouts are removed with TIMEOUT_REMOVE and polls with POLL_REMOVE; the rest with ASYNC_CANCEL. */
  protected override cancelOp(userData: number, opcode: number): void {
    if (opcode === IORING_OP_TIMEOUT) this.placeInternal(IORING_OP_TIMEOUT_REMOVE, -1, userData, 0);
    else if (opcode === IORING_OP_POLL_ADD) this.placeInternal(IORING_OP_POLL_REMOVE, -1, userData, 0);
    else super.cancelOp(userData, opcode);
  }
}

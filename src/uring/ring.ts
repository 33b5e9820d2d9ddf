/**
 * Ring: io_uring with one awaitable method per op, named and ordered like the
 * system call it stands for (`ring.read(fd, buf, offset)` is pread(2)).
 *
 * Ops started in one JS turn go to the kernel together, with one
 * io_uring_enter flushed from a microtask. Each op resolves with its result or
 * rejects with a KernelError named after it (errno = -res). An op never throws:
 * bad arguments (EINVAL) and a closed ring (EBADF) reject its promise too.
 *
 * @module
 */
import { viewAddress } from "../../ffi/runtime/address.ts";
import { AT_FDCWD } from "../../ffi/structs/fcntl.ts";
import { MSG_NOSIGNAL, SOCK_CLOEXEC } from "../../ffi/structs/socket.ts";
import {
  IORING_ACCEPT_MULTISHOT,
  IORING_CQE_F_MORE,
  IORING_CQE_F_NOTIF,
  IORING_OP_RECV,
  IORING_RECV_MULTISHOT,
  IOSQE_BUFFER_SELECT,
  IORING_OP_POLL_ADD,
  IORING_OP_POLL_REMOVE,
  IORING_OP_TIMEOUT,
  IORING_OP_TIMEOUT_REMOVE,
  IORING_REGISTER_FILES,
  IORING_UNREGISTER_FILES,
} from "../../ffi/structs/io_uring.ts";
import { statx as statxLayout } from "../../ffi/structs/stat.ts";
import { KernelError } from "../errors.ts";
import { checkFd, checkNegative, liburing } from "../native.ts";
import { type OpOptions, RingCore, type RingOptions, type StreamHandler } from "./core.ts";
import type { ProvidedBuffers } from "./bufring.ts";
import { FixedBuffers } from "./memory.ts";
import * as ops from "./ops.ts";
import { Prep } from "./prep.ts";
import { setBufIndex, setIoprio } from "./sqe.ts";
import { type Statx, statxFrom } from "./statx.ts";

/** The directory fd meaning "the current working directory" (AT_FDCWD). */
export const CWD: number = AT_FDCWD;

const ECANCELED = 125;

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
 * An io_uring with awaitable ops. Close it (or `using`) when done: closing
 * cancels what is in flight and rejects it with ECANCELED.
 */
export class Ring extends RingCore {
  #fixed: FixedBuffers | undefined;
  readonly #submit: ops.Sink<OpOptions | undefined, Promise<number>> = (
    opcode,
    fd,
    off,
    addr,
    len,
    opFlags,
    keep,
    subject,
    extra,
    okErrno,
    options,
  ) => this.submitOp(opcode, fd, off, addr, len, opFlags, keep, options, subject, extra, okErrno);

  /**
   * The batch API: `ring.prep.<op>(..., userData)` queues an SQE without
   * submitting; `ring.submit()` sends the batch; `ring.completions()` drains
   * the results.
   */
  readonly prep: Prep;

  /** Sets up the ring; see {@link RingOptions}. */
  constructor(options: RingOptions = {}) {
    super(options);
    this.prep = new Prep(
      (opcode, fd, off, addr, len, opFlags, keep, _subject, extra, _ok, ctx) =>
        this.prepOp(opcode, fd, off, addr, len, opFlags, ctx.userData, keep, ctx.flags, extra),
      () => this.#fixed,
      (op) => this.assertOpen(op),
    );
  }

  /** IORING_OP_NOP: completes with 0; measures the ring itself. */
  nop(options?: OpOptions): Promise<number> {
    try {
      return ops.nop(this.#submit, options);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** pread(2): reads up to `length` bytes (default: the whole buffer) at `offset` (-1: the file position). */
  read(fd: number, buffer: ArrayBufferView, offset = -1, length: number = buffer.byteLength, options?: OpOptions): Promise<number> {
    try {
      return ops.read(this.#submit, options, fd, buffer, offset, length);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** pwrite(2): writes `length` bytes (default: the whole buffer) at `offset` (-1: the file position). */
  write(fd: number, buffer: ArrayBufferView, offset = -1, length: number = buffer.byteLength, options?: OpOptions): Promise<number> {
    try {
      return ops.write(this.#submit, options, fd, buffer, offset, length);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** preadv(2): scatters into `buffers` in order. */
  readv(fd: number, buffers: readonly ArrayBufferView[], offset = -1, options?: OpOptions): Promise<number> {
    try {
      return ops.readv(this.#submit, options, fd, buffers, offset);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** pwritev(2): gathers from `buffers` in order. */
  writev(fd: number, buffers: readonly ArrayBufferView[], offset = -1, options?: OpOptions): Promise<number> {
    try {
      return ops.writev(this.#submit, options, fd, buffers, offset);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** read into a registered buffer (IORING_OP_READ_FIXED). */
  readFixed(fd: number, buffer: ArrayBufferView, offset = -1, length: number = buffer.byteLength, options?: OpOptions): Promise<number> {
    try {
      return ops.readFixed(this.#submit, options, this.#fixed, fd, buffer, offset, length);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** write from a registered buffer (IORING_OP_WRITE_FIXED). */
  writeFixed(fd: number, buffer: ArrayBufferView, offset = -1, length: number = buffer.byteLength, options?: OpOptions): Promise<number> {
    try {
      return ops.writeFixed(this.#submit, options, this.#fixed, fd, buffer, offset, length);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** fsync(2), or fdatasync(2) with `{ datasync: true }`. */
  fsync(fd: number, options?: OpOptions & { readonly datasync?: boolean }): Promise<number> {
    try {
      return ops.fsync(this.#submit, options, fd, options?.datasync === true);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** fdatasync(2). */
  fdatasync(fd: number, options?: OpOptions): Promise<number> {
    try {
      return ops.fsync(this.#submit, options, fd, true);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** fallocate(2). */
  fallocate(fd: number, mode: number, offset: number, length: number, options?: OpOptions): Promise<number> {
    try {
      return ops.fallocate(this.#submit, options, fd, mode, offset, length);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** posix_fadvise(2). */
  fadvise(fd: number, offset: number, length: number, advice: number, options?: OpOptions): Promise<number> {
    try {
      return ops.fadvise(this.#submit, options, fd, offset, length, advice);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** madvise(2) over the memory of `view` (memory kernelkit mapped, such as a Mapping's bytes). */
  madvise(view: ArrayBufferView, advice: number, options?: OpOptions): Promise<number> {
    try {
      return ops.madvise(this.#submit, options, view, advice);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** openat(2): resolves with the new fd. */
  openat(dirfd: number, path: string, flags: number, mode = 0o644, options?: OpOptions): Promise<number> {
    try {
      return ops.openat(this.#submit, options, dirfd, path, flags, mode);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** openat2(2): resolves with the new fd. */
  openat2(dirfd: number, path: string, how: OpenHow, options?: OpOptions): Promise<number> {
    try {
      return ops.openat2(this.#submit, options, dirfd, path, how.flags, how.mode ?? 0, how.resolve ?? 0);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** close(2) of `fd` (IORING_OP_CLOSE). `ring.close()` closes the ring itself. */
  closeFd(fd: number, options?: OpOptions): Promise<number> {
    try {
      return ops.closeFd(this.#submit, options, fd);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** statx(2): resolves with the file's attributes. */
  async statx(dirfd: number, path: string, flags = 0, mask = 0xfff, options?: OpOptions): Promise<Statx> {
    const out = statxLayout.alloc();
    let done: Promise<number>;
    try {
      done = ops.statxInto(this.#submit, options, dirfd, path, flags, mask, out);
    } catch (e) {
      done = this.#rejected(e);
    }
    await done;
    return statxFrom(new DataView(out.buffer));
  }

  /** unlinkat(2). */
  unlinkat(dirfd: number, path: string, flags = 0, options?: OpOptions): Promise<number> {
    try {
      return ops.unlinkat(this.#submit, options, dirfd, path, flags);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** renameat2(2). */
  renameat(oldDirfd: number, oldPath: string, newDirfd: number, newPath: string, flags = 0, options?: OpOptions): Promise<number> {
    try {
      return ops.renameat(this.#submit, options, oldDirfd, oldPath, newDirfd, newPath, flags);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** mkdirat(2). */
  mkdirat(dirfd: number, path: string, mode = 0o755, options?: OpOptions): Promise<number> {
    try {
      return ops.mkdirat(this.#submit, options, dirfd, path, mode);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** symlinkat(2): creates `linkPath` (relative to `newDirfd`) pointing at `target`. */
  symlinkat(target: string, newDirfd: number, linkPath: string, options?: OpOptions): Promise<number> {
    try {
      return ops.symlinkat(this.#submit, options, target, newDirfd, linkPath);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** linkat(2). */
  linkat(oldDirfd: number, oldPath: string, newDirfd: number, newPath: string, flags = 0, options?: OpOptions): Promise<number> {
    try {
      return ops.linkat(this.#submit, options, oldDirfd, oldPath, newDirfd, newPath, flags);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /**
   * A timeout of `ms` milliseconds (IORING_OP_TIMEOUT). Resolves with 0 when
   * it expires or when `count` other completions have been posted first.
   * Aborting its signal removes it (TIMEOUT_REMOVE).
   */
  timeout(ms: number, options?: TimeoutOptions): Promise<number> {
    try {
      return ops.timeout(this.#submit, options, ms, options?.count ?? 0, options?.absolute === true);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /**
   * A timeout for the op queued just before it with `{ link: "soft" }`
   * (IORING_OP_LINK_TIMEOUT). Resolves true if it fired (and canceled that op),
   * false if the op finished first.
   */
  async linkTimeout(ms: number, options?: OpOptions): Promise<boolean> {
    try {
      let done: Promise<number>;
      try {
        done = ops.linkTimeout(this.#submit, options, ms);
      } catch (e) {
        done = this.#rejected(e);
      }
      await done;
      return true;
    } catch (e) {
      if (e instanceof KernelError && e.errno === ECANCELED && !options?.signal?.aborted) return false;
      throw e;
    }
  }

  /**
   * poll(2) on one fd (IORING_OP_POLL_ADD): resolves with the ready events
   * (POLLIN, ...). Aborting its signal removes it (POLL_REMOVE).
   */
  pollAdd(fd: number, events: number, options?: OpOptions): Promise<number> {
    try {
      return ops.pollAdd(this.#submit, options, fd, events);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** splice(2): moves `length` bytes between two fds, one of them a pipe; offsets -1 for pipes. */
  splice(fdIn: number, offIn: number, fdOut: number, offOut: number, length: number, flags = 0, options?: OpOptions): Promise<number> {
    try {
      return ops.splice(this.#submit, options, fdIn, offIn, fdOut, offOut, length, flags);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** tee(2): duplicates `length` bytes from one pipe to another. */
  tee(fdIn: number, fdOut: number, length: number, flags = 0, options?: OpOptions): Promise<number> {
    try {
      return ops.tee(this.#submit, options, fdIn, fdOut, length, flags);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** accept4(2) on a listening socket: resolves with the connection's fd. */
  accept(fd: number, flags = SOCK_CLOEXEC, options?: OpOptions): Promise<number> {
    try {
      return ops.accept(this.#submit, options, fd, flags);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /**
   * Multishot accept (IORING_ACCEPT_MULTISHOT, Linux 5.19): `handler` gets
   * each new connection's fd (or -errno); it stops when a CQE comes without
   * IORING_CQE_F_MORE. Returns a handle for cancelStream().
   */
  acceptMultishot(fd: number, handler: StreamHandler, flags = SOCK_CLOEXEC): number {
    return ops.accept(this.#stream(handler, 0), undefined, fd, flags, IORING_ACCEPT_MULTISHOT);
  }

  /** connect(2) to a sockaddr (see src/net). */
  connect(fd: number, sockaddr: Uint8Array, subject = `socket fd ${fd}`, options?: OpOptions): Promise<number> {
    try {
      return ops.connect(this.#submit, options, fd, sockaddr, subject);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** recv(2): resolves with the bytes received, 0 at end of stream. */
  recv(fd: number, buffer: ArrayBufferView, length: number = buffer.byteLength, flags = 0, options?: OpOptions): Promise<number> {
    try {
      return ops.recv(this.#submit, options, fd, buffer, length, flags);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /**
   * Multishot recv into provided buffers (Linux 6.0): `handler(res, flags)`
   * gets each chunk; `flags >>> 16` is the buffer id in `group`, to read with
   * group.buffer(id, res) and give back with group.recycle(id). Returns a
   * handle for cancelStream().
   */
  recvMultishot(fd: number, group: ProvidedBuffers, handler: StreamHandler): number {
    const sink = this.#stream(handler, IOSQE_BUFFER_SELECT);
    return sink(IORING_OP_RECV, fd, 0, 0, 0, 0, group, undefined, (s, i) => {
      setBufIndex(s, i, group.group);
      setIoprio(s, i, IORING_RECV_MULTISHOT);
    }, 0, undefined);
  }

  /** send(2): resolves with the bytes sent (MSG_NOSIGNAL is always added). */
  send(fd: number, buffer: ArrayBufferView, length: number = buffer.byteLength, flags = 0, options?: OpOptions): Promise<number> {
    try {
      return ops.send(this.#submit, options, fd, buffer, length, flags | MSG_NOSIGNAL);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /** sendmsg(2) of several buffers at once (MSG_NOSIGNAL is always added). */
  sendmsg(fd: number, buffers: readonly ArrayBufferView[], flags = 0, options?: OpOptions): Promise<number> {
    try {
      return ops.sendmsg(this.#submit, options, fd, buffers, flags | MSG_NOSIGNAL);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /**
   * Zero-copy send (IORING_OP_SEND_ZC, Linux 6.0): the kernel sends from
   * `buffer` itself. Resolves with the bytes sent once the kernel's
   * notification says the buffer is free again, which is when it may be reused.
   */
  sendZc(fd: number, buffer: ArrayBufferView, length: number = buffer.byteLength, flags = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      let result = 0;
      const handler: StreamHandler = (res, cqeFlags) => {
        if ((cqeFlags & IORING_CQE_F_NOTIF) === 0) result = res;
        if (cqeFlags & IORING_CQE_F_MORE) return;
        if (result < 0) reject(new KernelError({ errno: -result, syscall: "send_zc", subject: `socket fd ${fd}` }));
        else resolve(result);
      };
      try {
        ops.sendZc(this.#stream(handler, 0), undefined, fd, buffer, length, flags | MSG_NOSIGNAL);
      } catch (e) {
        this.#rejected(e).catch(reject);
      }
    });
  }

  /** shutdown(2). */
  shutdown(fd: number, how: number, options?: OpOptions): Promise<number> {
    try {
      return ops.shutdown(this.#submit, options, fd, how);
    } catch (e) {
      return this.#rejected(e);
    }
  }

  /**
   * An op's synchronous failure (a bad argument) as its rejection. On a closed
   * ring the op fails with EBADF whatever its arguments, as an op after close
   * always does.
   */
  #rejected(e: unknown): Promise<never> {
    if (this.closed && e instanceof KernelError && e.errno !== 9) {
      try {
        this.assertOpen(e.syscall);
      } catch (closed) {
        return Promise.reject(closed);
      }
    }
    return Promise.reject(e);
  }

  /** A sink that queues a multishot op with `handler`. */
  #stream(handler: StreamHandler, sqeFlags: number): ops.Sink<undefined, number> {
    return (opcode, fd, off, addr, len, opFlags, keep, _subject, extra) =>
      this.submitStream(opcode, fd, off, addr, len, opFlags, 0, keep, handler, extra, sqeFlags);
  }

  /**
   * Registers buffers with the kernel (IORING_REGISTER_BUFFERS), pinning their
   * pages so that readFixed and writeFixed skip the per-op page mapping. Use a
   * BufferPool's memory; the buffers stay referenced until unregisterBuffers().
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
    this.#fixed = FixedBuffers.register(this.fd, buffers, ops.lend);
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
    if (fds.length === 0) {
      // An empty table has no address: the kernel would answer EFAULT.
      throw new KernelError({
        errno: 22,
        syscall: "io_uring_register",
        subject: "IORING_REGISTER_FILES, 0 files",
        hint: "pass at least one fd (-1 holds an empty slot)",
      });
    }
    for (const fd of fds) checkFd(fd, "io_uring_register");
    const table = Int32Array.from(fds);
    const r = liburing().symbols.io_uring_register(this.fd, IORING_REGISTER_FILES, viewAddress(table), table.length);
    checkNegative(r, "io_uring_register", {
      subject: `IORING_REGISTER_FILES, ${fds.length} files`,
      hint: r === -16 ? "files are already registered: call unregisterFiles() first" : undefined,
    });
  }

  /** Unregisters the files of registerFiles(). */
  unregisterFiles(): void {
    this.assertOpen("io_uring_register");
    const r = liburing().symbols.io_uring_register(this.fd, IORING_UNREGISTER_FILES, 0, 0);
    checkNegative(r, "io_uring_register", {
      subject: "IORING_UNREGISTER_FILES",
      hint: r === -6 ? "no files are registered: call registerFiles() first" : undefined,
    });
  }

  /** Timeouts are removed with TIMEOUT_REMOVE and polls with POLL_REMOVE; the rest with ASYNC_CANCEL. */
  protected override cancelOp(userData: number, opcode: number): void {
    if (opcode === IORING_OP_TIMEOUT) this.placeInternal(IORING_OP_TIMEOUT_REMOVE, -1, userData, 0);
    else if (opcode === IORING_OP_POLL_ADD) this.placeInternal(IORING_OP_POLL_REMOVE, -1, userData, 0);
    else super.cancelOp(userData, opcode);
  }
}

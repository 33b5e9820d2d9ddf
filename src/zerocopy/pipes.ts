/**
 * A pool of pipes for splice: the in-kernel buffer that zero-copy transfers
 * pass through. Each pipe is made once and reused; its size is raised with
 * F_SETPIPE_SZ so one splice moves up to a megabyte.
 *
 * @module
 */
import { F_GETPIPE_SZ, F_SETPIPE_SZ, O_CLOEXEC } from "../../ffi/structs/fcntl.ts";
import { check, sys } from "../native.ts";
import { readKernelFile } from "../system/procfs.ts";

/** One pipe: read end, write end, and its capacity in bytes. */
export interface Pipe {
  /** The read end. */
  readonly read: number;
  /** The write end. */
  readonly write: number;
  /** Capacity (F_GETPIPE_SZ). */
  readonly size: number;
}

/** Makes a pipe of up to `size` bytes (capped by /proc/sys/fs/pipe-max-size for non-root). */
export function makePipe(size = 1 << 20): Pipe {
  const fds = new Int32Array(2);
  check(sys().pipe2(fds, O_CLOEXEC), "pipe2");
  const max = Number(readKernelFile("/proc/sys/fs/pipe-max-size") ?? 1 << 20);
  // A smaller pipe still works; F_SETPIPE_SZ can fail for non-root past the limits.
  sys().fcntl(fds[1], F_SETPIPE_SZ, Math.min(size, max));
  const actual = sys().fcntl(fds[1], F_GETPIPE_SZ, 0);
  return { read: fds[0], write: fds[1], size: actual > 0 ? actual : 65536 };
}

/** Closes both ends of a pipe. */
export function closePipe(pipe: Pipe): void {
  sys().close(pipe.read);
  sys().close(pipe.write);
}

/**
 * Reusable pipes. acquire() hands out an empty pipe; release() takes it back
 * if it is empty, or closes it if a transfer left bytes in it.
 */
export class PipePool {
  /** Capacity asked for each pipe. */
  readonly size: number;
  /** Most idle pipes kept open. */
  readonly keep: number;
  readonly #idle: Pipe[] = [];
  #closed = false;

  /** A pool of pipes of `size` bytes, keeping at most `keep` idle ones. */
  constructor(size = 1 << 20, keep = 64) {
    this.size = size;
    this.keep = keep;
  }

  /** An empty pipe. */
  acquire(): Pipe {
    return this.#idle.pop() ?? makePipe(this.size);
  }

  /** Returns a pipe; `clean` says whether it was fully drained. */
  release(pipe: Pipe, clean: boolean): void {
    if (clean && !this.#closed && this.#idle.length < this.keep) this.#idle.push(pipe);
    else closePipe(pipe);
  }

  /** Closes the idle pipes. Harmless twice. */
  close(): void {
    this.#closed = true;
    for (const p of this.#idle.splice(0)) closePipe(p);
  }

  /** Same as close(). */
  [Symbol.dispose](): void {
    this.close();
  }
}

let shared: PipePool | undefined;

/** The pool the zero-copy functions use when none is given. */
export function defaultPipePool(): PipePool {
  shared ??= new PipePool();
  return shared;
}

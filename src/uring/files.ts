/**
 * Whole-file helpers built on a ring: readFile and writeFile (copyFile, which
 * splices, is in src/zerocopy). Each file is cut into chunks that are all in flight at once
 * (up to `depth`), so one io_uring_enter carries many reads or writes.
 *
 * @module
 */
import { AT_EMPTY_PATH, O_CLOEXEC, O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY } from "../../ffi/structs/fcntl.ts";
import { STATX_SIZE } from "../../ffi/structs/stat.ts";
import { KernelError } from "../errors.ts";
import { CWD, Ring } from "./ring.ts";

/** Options of the file helpers. */
export interface FileOptions {
  /** The ring to use; a shared ring of this module when absent. */
  readonly ring?: Ring;
  /** Bytes per read or write. Default 1 MiB. */
  readonly chunkSize?: number;
  /** Most chunks in flight. Default 16. */
  readonly depth?: number;
  /** Cancels the remaining chunks. */
  readonly signal?: AbortSignal;
}

let shared: Ring | undefined;

/** The file helpers' shared ring: created on first use; its waker never keeps the process alive when idle. */
export function sharedRing(): Ring {
  if (!shared || shared.closed) shared = new Ring({ entries: 64 });
  return shared;
}

function ringFor(options: FileOptions): Ring {
  return options.ring ?? sharedRing();
}

/** Runs `work(i)` for i in [0, n) with at most `depth` in flight. */
/**
 * Runs `work(0 .. n-1)`, `depth` at a time. After the first failure no new
 * work starts, and it rejects (with the first failing lane's error) only once
 * every lane has settled: the caller closes the fd next, and none of its ops
 * may still be running on it then.
 */
async function parallel(n: number, depth: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (next < n && !failed) {
      try {
        await work(next++);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const lanes = await Promise.allSettled(Array.from({ length: Math.min(depth, n) }, lane));
  const failure = lanes.find((l): l is PromiseRejectedResult => l.status === "rejected");
  if (failure) throw failure.reason;
}

async function readFully(ring: Ring, fd: number, buf: Uint8Array, offset: number, signal?: AbortSignal): Promise<number> {
  let done = 0;
  while (done < buf.length) {
    const n = await ring.read(fd, buf.subarray(done), offset + done, buf.length - done, { signal });
    if (n === 0) break; // end of file (it shrank)
    done += n;
  }
  return done;
}

async function writeFully(ring: Ring, fd: number, buf: Uint8Array, offset: number, signal?: AbortSignal): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const n = await ring.write(fd, buf.subarray(done), offset + done, buf.length - done, { signal });
    if (n === 0) throw new KernelError({ errno: 28, syscall: "write", subject: `fd ${fd}`, hint: "the file system wrote nothing: check free space" });
    done += n;
  }
}

/** Reads a whole file. Files that report size 0 (procfs, sysfs) are read until end of file. */
export async function readFile(path: string, options: FileOptions = {}): Promise<Uint8Array> {
  const ring = ringFor(options);
  const chunk = options.chunkSize ?? 1 << 20;
  const fd = await ring.openat(CWD, path, O_RDONLY | O_CLOEXEC, 0, { signal: options.signal });
  try {
    const { size } = await ring.statx(fd, "", AT_EMPTY_PATH, STATX_SIZE);
    if (size === 0) {
      const parts: Uint8Array[] = [];
      for (;;) {
        const part = new Uint8Array(64 * 1024);
        const n = await ring.read(fd, part, -1, part.length, { signal: options.signal });
        if (n === 0) break;
        parts.push(part.subarray(0, n));
      }
      const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
      let at = 0;
      for (const p of parts) out.set(p, (at += p.length) - p.length);
      return out;
    }
    const out = new Uint8Array(size);
    let short = size;
    await parallel(Math.ceil(size / chunk), options.depth ?? 16, async (i) => {
      const got = await readFully(ring, fd, out.subarray(i * chunk, (i + 1) * chunk), i * chunk, options.signal);
      if (got < Math.min(chunk, size - i * chunk)) short = Math.min(short, i * chunk + got);
    });
    return short < size ? out.subarray(0, short) : out;
  } finally {
    await ring.closeFd(fd);
  }
}

/** Writes `data` to `path`, creating or truncating it (mode 0644 unless given). */
export async function writeFile(path: string, data: Uint8Array, options: FileOptions & { readonly mode?: number } = {}): Promise<void> {
  const ring = ringFor(options);
  const chunk = options.chunkSize ?? 1 << 20;
  const fd = await ring.openat(CWD, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, options.mode ?? 0o644, { signal: options.signal });
  try {
    await parallel(Math.ceil(data.length / chunk), options.depth ?? 16, (i) =>
      writeFully(ring, fd, data.subarray(i * chunk, (i + 1) * chunk), i * chunk, options.signal));
  } finally {
    await ring.closeFd(fd);
  }
}

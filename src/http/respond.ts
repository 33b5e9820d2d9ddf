/**
 * One static-file response: method check, path resolution, the open beneath
 * the root, the conditional and range decisions, the head in one send and the
 * body with sendfileAsync (SPLICE through the ring: the bytes go from the page
 * cache to the socket without passing through JS). Bodies below the server's
 * `sendfileThreshold` (16 KiB by default) go with the head in one SEND instead.
 *
 * @module
 */
import { ERRNO } from "../../ffi/structs/errno.ts";
import { AT_EMPTY_PATH, O_CLOEXEC, O_NOCTTY, O_NONBLOCK, O_RDONLY, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS } from "../../ffi/structs/fcntl.ts";
import { MSG_MORE } from "../../ffi/structs/socket.ts";
import { statx as statxLayout, STATX_BASIC_STATS } from "../../ffi/structs/stat.ts";
import { KernelError } from "../errors.ts";
import type { Ring } from "../uring/ring.ts";
import { type Statx, statxFrom } from "../uring/statx.ts";
import { check, cString, sys } from "../native.ts";
import { sendfileAsync } from "../zerocopy/sendfile.ts";
import { etagOf, evaluateRange, httpDate, ifRangeHolds, isNotModified } from "./conditional.ts";
import { mimeType } from "./mime.ts";
import { directoryLocation, resolveTarget } from "./path.ts";
import type { RequestHead } from "./request.ts";
import { latin1Bytes, responseHead, textResponse } from "./response.ts";

/** What every response of one server shares. */
export interface StaticContext {
  /** The ring all I/O goes through. */
  readonly ring: Ring;
  /** An O_PATH fd of the root directory; every file is opened beneath it. */
  readonly rootFd: number;
  /** The file served for a directory ("index.html"), or null for none. */
  readonly index: string | null;
  /** Extension to Content-Type entries that win over the built-in table. */
  readonly mimeTypes: Readonly<Record<string, string>> | undefined;
  /** Bodies of at least this many bytes go with sendfileAsync; smaller ones are read and sent with the head. */
  readonly sendfileThreshold: number;
}

/** The connection a response is written to. */
export interface Wire {
  /** The socket's fd. */
  readonly fd: number;
  /** Aborted when the connection is torn down; cancels the body transfer. */
  readonly signal: AbortSignal;
  /** Called whenever the response makes progress (pushes the send deadline back). */
  progress(): void;
}

// O_NONBLOCK: opening a FIFO someone placed under the root must not hang a
// worker; it has no effect on regular files. O_NOCTTY: never adopt a terminal.
const OPEN_FLAGS = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
// RESOLVE_BENEATH (Linux 5.6): "..", absolute symlinks and symlinks that lead
// out of the root fail with EXDEV, checked by the kernel during the lookup.
const RESOLVE = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
/** Body bytes per sendfileAsync call; the send deadline is pushed back after each. */
const BODY_CHUNK = 4 * 1024 * 1024;

/** Sends all of `bytes`, looping over short sends. */
export async function sendAll(ring: Ring, wire: Wire, bytes: Uint8Array, flags = 0): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    done += await ring.send(wire.fd, bytes.subarray(done), bytes.length - done, flags, { signal: wire.signal });
    wire.progress();
  }
}

/** The status for a failed open beneath the root. */
function openFailureStatus(e: unknown): number {
  if (!(e instanceof KernelError)) throw e;
  switch (e.errno) {
    case ERRNO.ENOENT:
    case ERRNO.ENOTDIR:
    case ERRNO.ENAMETOOLONG:
      return 404;
    case ERRNO.EXDEV: // the path or a symlink on it leads out of the root
    case ERRNO.ELOOP:
    case ERRNO.EACCES:
    case ERRNO.EPERM:
      return 403;
    case ERRNO.EMFILE:
    case ERRNO.ENFILE:
    case ERRNO.ENOMEM:
      return 503;
    default:
      return 500;
  }
}

interface Opened {
  readonly fd: number;
  readonly stat: Statx;
  readonly name: string;
}

async function openBeneath(ctx: StaticContext, path: string): Promise<Opened | number> {
  let fd: number;
  try {
    fd = await ctx.ring.openat2(ctx.rootFd, path === "" ? "." : path, { flags: OPEN_FLAGS, resolve: RESOLVE });
  } catch (e) {
    return openFailureStatus(e);
  }
  try {
    return { fd, stat: fstat(fd), name: path };
  } catch (e) {
    closeQuietly(ctx.ring, fd);
    return openFailureStatus(e);
  }
}

const statBuf = statxLayout.alloc();
const statView = new DataView(statBuf.buffer);
const EMPTY_PATH = cString("");

/**
 * statx(2) of an open fd, as a plain system call: IORING_OP_STATX always runs
 * in an io-wq worker thread (the kernel forces it async), which costs two
 * context switches, while statx of an fd from the dentry cache never blocks.
 */
function fstat(fd: number): Statx {
  check(sys().statx(fd, EMPTY_PATH, AT_EMPTY_PATH, STATX_BASIC_STATS, statBuf), "statx", { subject: `fd ${fd}` });
  return statxFrom(statView);
}

function closeQuietly(ring: Ring, fd: number): void {
  ring.closeFd(fd).catch(() => {});
}

/**
 * Answers one request. Resolves true when the response went out whole and the
 * connection may carry another request; false when the body came up short
 * (the file shrank while it was sent) and the connection must close. Rejects
 * with the KernelError of a failed send (the peer went away).
 */
export async function respond(ctx: StaticContext, wire: Wire, head: RequestHead, keepAlive: boolean): Promise<boolean> {
  const { ring } = ctx;
  const isHead = head.method === "HEAD";
  const simple = async (status: number, extra: readonly string[] = []) => {
    await sendAll(ring, wire, textResponse(status, head.minor, keepAlive, !isHead, extra));
    return true;
  };
  if (head.method !== "GET" && !isHead) return simple(405, ["Allow: GET, HEAD"]);
  const target = resolveTarget(head.target);
  if (target.kind === "reject") return simple(target.status);

  let opened = await openBeneath(ctx, target.path);
  if (typeof opened === "number") return simple(opened);
  try {
    if (opened.stat.isDirectory) {
      if (!target.trailingSlash) return simple(301, [`Location: ${directoryLocation(target)}`]);
      if (ctx.index === null) return simple(404);
      const indexPath = target.path === "" ? ctx.index : `${target.path}/${ctx.index}`;
      const index = await openBeneath(ctx, indexPath);
      closeQuietly(ring, opened.fd);
      opened = index;
      if (typeof opened === "number") return simple(opened);
      if (!opened.stat.isFile) return simple(404);
    }
    // FIFOs, sockets and devices under the root are not files to serve.
    if (!opened.stat.isFile) return simple(403);
    return await sendFile(ctx, wire, head, keepAlive, opened);
  } finally {
    if (typeof opened !== "number") closeQuietly(ring, opened.fd);
  }
}

async function sendFile(ctx: StaticContext, wire: Wire, head: RequestHead, keepAlive: boolean, file: Opened): Promise<boolean> {
  const { ring } = ctx;
  const { size } = file.stat;
  const etag = etagOf(file.stat);
  const lastModified = httpDate(file.stat.mtimeMs);
  const validators = [`ETag: ${etag}`, `Last-Modified: ${lastModified}`];
  if (isNotModified(head.headers, etag, file.stat.mtimeMs)) {
    await sendAll(ring, wire, latin1Bytes(responseHead(304, head.minor, keepAlive, validators)));
    return true;
  }
  const isHead = head.method === "HEAD";
  // Range is defined for GET only (RFC 9110 14.2); If-Range decides whether it applies.
  const rangeHeader = !isHead && ifRangeHolds(head.headers.get("if-range"), etag, lastModified)
    ? head.headers.get("range")
    : undefined;
  const range = evaluateRange(rangeHeader, size);
  if (range.kind === "unsatisfiable") {
    await sendAll(ring, wire, textResponse(416, head.minor, keepAlive, true, [`Content-Range: bytes */${size}`]));
    return true;
  }
  const start = range.kind === "range" ? range.range.start : 0;
  const length = range.kind === "range" ? range.range.end - start + 1 : size;
  const fields = [
    `Content-Type: ${mimeType(file.name, ctx.mimeTypes)}`,
    `Content-Length: ${length}`,
    ...validators,
    "Accept-Ranges: bytes",
  ];
  if (range.kind === "range") fields.push(`Content-Range: bytes ${start}-${range.range.end}/${size}`);
  const headBytes = latin1Bytes(responseHead(range.kind === "range" ? 206 : 200, head.minor, keepAlive, fields));
  if (isHead || length === 0) {
    await sendAll(ring, wire, headBytes);
    return true;
  }
  if (length < ctx.sendfileThreshold) {
    // A small body is read (IORING_OP_READ completes inline from the page cache)
    // and sent with the head in one SEND: cheaper than two SPLICEs, which the
    // kernel always runs in io-wq worker threads.
    const message = new Uint8Array(headBytes.length + length);
    message.set(headBytes);
    for (let got = 0; got < length;) {
      const n = await ring.read(file.fd, message.subarray(headBytes.length + got), start + got, length - got);
      if (n === 0) return false; // the file shrank under us
      got += n;
    }
    await sendAll(ring, wire, message);
    return true;
  }
  // MSG_MORE: the head waits for the first body bytes, so both leave in one segment.
  await sendAll(ring, wire, headBytes, MSG_MORE);
  let sent = 0;
  while (sent < length) {
    const want = Math.min(BODY_CHUNK, length - sent);
    const more = sent + want < length;
    const n = await sendfileAsync(ring, wire.fd, file.fd, { offset: start + sent, length: want, signal: wire.signal, more });
    sent += n;
    wire.progress();
    if (n < want) return false; // the file shrank under us: the framing is broken
  }
  return true;
}

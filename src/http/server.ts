/**
 * serveStatic: an HTTP/1.1 static file server on an io_uring.
 *
 * Connections are accepted with one multishot ACCEPT, read with multishot
 * RECVs into one shared group of provided buffers, and answered with one send
 * for the head and SPLICE (sendfileAsync) for the body, so file bytes never
 * enter JS. Files are opened with openat2(RESOLVE_BENEATH) relative to the
 * root, so nothing outside it can be served, whatever the path or symlinks say.
 *
 * @module
 */
import { ERRNO } from "../../ffi/structs/errno.ts";
import { IORING_OP_OPENAT2, IORING_OP_RECV } from "../../ffi/structs/io_uring.ts";
import { O_CLOEXEC, O_DIRECTORY, O_PATH } from "../../ffi/structs/fcntl.ts";
import { KernelError } from "../errors.ts";
import { openExisting, sys } from "../native.ts";
import { listen, type TcpListener, type TcpSocket } from "../net/socket.ts";
import { ProvidedBuffers } from "../uring/bufring.ts";
import { Ring } from "../uring/ring.ts";
import { Connection, type ConnectionContext } from "./connection.ts";

/** Options of {@link serveStatic}. */
export interface ServeStaticOptions {
  /** The directory to serve. Nothing outside it is reachable, symlinks included. */
  readonly root: string;
  /** The address to listen on. Default "127.0.0.1"; "0.0.0.0" or "::" to serve the network. */
  readonly hostname?: string;
  /** The port; 0 (default) lets the kernel pick a free one (see `server.port`). */
  readonly port?: number;
  /** The ring to run on. Default: a ring of the server's own, closed by `close()`. */
  readonly ring?: Ring;
  /** The file served for a directory whose path ends in "/". Default "index.html"; null for none (404). */
  readonly index?: string | null;
  /** The largest request head accepted, in bytes (431 beyond it). Default 16 KiB. */
  readonly maxHeaderSize?: number;
  /** How long a keep-alive connection may sit idle, and a response make no progress, in ms. Default 30 000. */
  readonly idleTimeoutMs?: number;
  /** How long a request head may take to arrive once its first byte has, in ms. Default 10 000. */
  readonly headerTimeoutMs?: number;
  /** How long close() waits for responses in flight before cutting them off, in ms. Default 10 000. */
  readonly closeTimeoutMs?: number;
  /**
   * Bodies of at least this many bytes are sent with sendfileAsync (SPLICE file → pipe → socket, no copy
   * through JS). Smaller ones are read from the page cache and sent with the head in one SEND: each SPLICE
   * runs in an io-wq worker thread, and for a few KiB the two thread hops cost more than the copy.
   * Default 16 KiB; 0 sends every body with sendfileAsync.
   */
  readonly sendfileThreshold?: number;
  /** Extra or replacement Content-Types by extension: `{ wasm: "application/wasm" }`. */
  readonly mimeTypes?: Readonly<Record<string, string>>;
  /** listen(2)'s backlog. Default 4096 (the kernel caps it at net.core.somaxconn). */
  readonly backlog?: number;
  /** SO_REUSEPORT, to run one server per core on the same port. */
  readonly reusePort?: boolean;
  /** The receive buffers shared by all connections: `count` (a power of two) of `size` bytes. Default 1024 × 4 KiB. */
  readonly recvBuffers?: { readonly count: number; readonly size: number };
  /** Called with errors that don't belong to one request (accepting failed). Default: console.error. */
  readonly onError?: (error: KernelError) => void;
}

/** A running static file server. Close it (or `await using`) to stop it. */
export interface StaticServer {
  /** The address it listens on. */
  readonly hostname: string;
  /** The port it listens on. */
  readonly port: number;
  /** "http://host:port/" (IPv6 hosts in brackets). */
  readonly url: string;
  /** Connections open now. */
  readonly connections: number;
  /** True once close() has been called. */
  readonly closing: boolean;
  /**
   * Stops accepting, closes idle connections, lets the responses in flight
   * finish (cut off after `closeTimeoutMs`), then releases the root fd, the
   * receive buffers and the ring if it is the server's own. Resolves when all
   * of that is done; calling it again returns the same promise.
   */
  close(): Promise<void>;
  /** Same as close(). */
  [Symbol.asyncDispose](): Promise<void>;
}

const groups = new WeakMap<Ring, number>();
/** The next provided-buffer group id on `ring`: unique among the servers sharing it. */
function nextGroup(ring: Ring): number {
  const id = groups.get(ring) ?? 0x6b6b; // "kk": away from the small ids user code tends to pick
  groups.set(ring, id + 1);
  return id & 0xffff;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new KernelError({ errno: ERRNO.EINVAL, syscall: "serveStatic", subject: `${name} ${value}`, hint: `${name} must be a positive number` });
  }
  return value;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new KernelError({ errno: ERRNO.EINVAL, syscall: "serveStatic", subject: `${name} ${value}`, hint: `${name} must be an integer >= 0` });
  }
  return value;
}

function openRoot(root: string): number {
  try {
    return openExisting(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
    const hint = e.errno === ERRNO.ENOTDIR
      ? "the root must be a directory"
      : e.errno === ERRNO.ENOENT
      ? "create the directory first, or give the path of an existing one"
      : e.hint;
    throw new KernelError({ errno: e.errno, syscall: "open", subject: `root ${root}`, hint });
  }
}

function needOps(ring: Ring): void {
  const ops = new Set(ring.probe().filter((o) => o.supported).map((o) => o.opcode));
  for (const [op, name, kernel] of [[IORING_OP_OPENAT2, "OPENAT2", "5.6"], [IORING_OP_RECV, "RECV", "5.6"]] as const) {
    if (!ops.has(op)) {
      throw new KernelError({
        errno: ERRNO.ENOTSUP,
        syscall: "io_uring_register",
        feature: `io_uring op ${name}`,
        message: `serveStatic needs the io_uring op ${name} (Linux ${kernel}), which this kernel lacks`,
        hint: "run on Linux 6.0 or later (multishot RECV with provided buffers needs 6.0)",
      });
    }
  }
}

class Server implements StaticServer {
  readonly hostname: string;
  readonly port: number;
  readonly url: string;
  readonly #listener: TcpListener;
  readonly #ctx: ConnectionContext & { draining: boolean };
  readonly #conns = new Set<Connection>();
  readonly #ownRing: boolean;
  readonly #rootFd: number;
  readonly #closeTimeoutMs: number;
  readonly #onError: (error: KernelError) => void;
  readonly #sweeper: ReturnType<typeof setInterval>;
  #closed: Promise<void> | undefined;
  #allClosed: (() => void) | undefined;

  constructor(options: ServeStaticOptions) {
    const idleTimeoutMs = positive("idleTimeoutMs", options.idleTimeoutMs, 30_000);
    const headerTimeoutMs = positive("headerTimeoutMs", options.headerTimeoutMs, 10_000);
    const maxHeaderSize = positive("maxHeaderSize", options.maxHeaderSize, 16 * 1024);
    this.#closeTimeoutMs = positive("closeTimeoutMs", options.closeTimeoutMs, 10_000);
    // Every option is checked before anything is opened: a bad one must not leave the root fd or a socket open.
    const sendfileThreshold = nonNegative("sendfileThreshold", options.sendfileThreshold, 16 * 1024);
    this.#onError = options.onError ?? ((e) => console.error(`kernelkit serveStatic: ${e.message}`));
    this.#rootFd = openRoot(options.root);
    this.#ownRing = options.ring === undefined;
    let ring: Ring;
    try {
      ring = options.ring ?? new Ring({ entries: 1024, cqEntries: 16384 });
    } catch (e) {
      // No ring (io_uring disabled by the sysctl or seccomp, or no memory): don't leak the root fd.
      sys().close(this.#rootFd);
      throw e;
    }
    let buffers: ProvidedBuffers | undefined;
    try {
      needOps(ring);
      const recv = options.recvBuffers ?? { count: 1024, size: 4096 };
      buffers = new ProvidedBuffers(ring, { count: recv.count, size: recv.size, group: nextGroup(ring) });
      this.#listener = listen({
        hostname: options.hostname ?? "127.0.0.1",
        port: options.port ?? 0,
        backlog: options.backlog ?? 4096,
        reusePort: options.reusePort,
        ring,
      });
    } catch (e) {
      buffers?.close();
      if (this.#ownRing) ring.close();
      sys().close(this.#rootFd);
      throw e;
    }
    this.hostname = this.#listener.hostname;
    this.port = this.#listener.port;
    this.url = `http://${this.hostname.includes(":") ? `[${this.hostname}]` : this.hostname}:${this.port}/`;
    const conns = this.#conns;
    this.#ctx = {
      ring,
      rootFd: this.#rootFd,
      index: options.index === undefined ? "index.html" : options.index,
      mimeTypes: options.mimeTypes,
      sendfileThreshold,
      buffers,
      maxHeaderSize,
      idleTimeoutMs,
      headerTimeoutMs,
      draining: false,
      onClosed: (c) => {
        conns.delete(c);
        if (conns.size === 0) this.#allClosed?.();
      },
    };
    // One coarse timer checks every deadline: per-connection timers would cost a
    // timer update per request; this costs one pass over the connections per tick.
    const tick = Math.max(20, Math.min(1000, Math.min(idleTimeoutMs, headerTimeoutMs) / 4));
    this.#sweeper = setInterval(() => {
      const now = Date.now();
      for (const c of conns) c.expire(now);
    }, tick);
    this.#accept();
  }

  get connections(): number {
    return this.#conns.size;
  }

  get closing(): boolean {
    return this.#ctx.draining;
  }

  #accept(): void {
    this.#listener.serve(
      (socket: TcpSocket) => {
        if (this.#ctx.draining) {
          sys().close(socket.fd);
          return;
        }
        this.#conns.add(new Connection(socket.fd, this.#ctx));
      },
      (error) => {
        // An error (EMFILE, ENFILE, ENOMEM) ends the multishot ACCEPT: report it and accept again shortly.
        this.#onError(error);
        setTimeout(() => {
          if (!this.#ctx.draining) this.#accept();
        }, 100);
      },
    );
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#ctx.draining = true;
    this.#listener.close();
    const all = new Promise<void>((resolve) => {
      this.#allClosed = resolve;
      if (this.#conns.size === 0) resolve();
    });
    for (const c of [...this.#conns]) c.drain();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cutOff = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        for (const c of [...this.#conns]) c.close();
        resolve();
      }, this.#closeTimeoutMs);
    });
    await Promise.race([all, cutOff]);
    await all; // after a cut-off, each connection closes once its ops have settled
    clearTimeout(timer);
    clearInterval(this.#sweeper);
    this.#ctx.buffers.close();
    sys().close(this.#rootFd);
    if (this.#ownRing) this.#ctx.ring.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Serves the files under `options.root` over HTTP/1.1 on an io_uring, and
 * returns once it listens.
 *
 * - GET and HEAD (405 with Allow for other methods); keep-alive and
 *   pipelining; Content-Type from a table of common extensions.
 * - A directory path without a trailing "/" is redirected (301) to the path
 *   with one; a path with one serves its index.html (404 if there is none; no
 *   listings).
 * - ETag and Last-Modified, with If-None-Match and If-Modified-Since (304);
 *   single byte ranges (206, 416) with If-Range; several ranges get the whole file.
 * - 400 for a malformed request, 414 and 431 for a request line or head
 *   over `maxHeaderSize`, 505 for anything but HTTP/1.x; 403 for paths that
 *   try to leave the root, encoded slashes, NUL bytes and non-files; 404 for
 *   what doesn't exist.
 * - A request with a body (Content-Length or Transfer-Encoding) is answered
 *   and its connection closed, so its body can't be taken for a request.
 *
 * Needs Linux 6.0 (multishot RECV with provided buffers; openat2). The server
 * keeps the process alive until closed. Throws a KernelError when the root
 * can't be opened or the address can't be bound.
 */
export function serveStatic(options: ServeStaticOptions): StaticServer {
  return new Server(options);
}

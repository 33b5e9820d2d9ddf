/**
 * TCP sockets driven by an io_uring: kernelkit opens its own sockets (libc
 * socket, setsockopt, bind, listen), because neither Deno nor Bun hands out
 * the fd of theirs, and then accepts, receives and sends through the ring.
 *
 * @module
 */
import {
  AF_INET,
  AF_INET6,
  IPPROTO_IPV6,
  IPPROTO_TCP,
  IPV6_V6ONLY,
  SHUT_RDWR,
  SHUT_WR,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SOCK_CLOEXEC,
  SOCK_STREAM,
  SOL_SOCKET,
  sockaddr_storage,
  TCP_NODELAY,
} from "../../ffi/structs/socket.ts";
import { KernelError } from "../errors.ts";
import { check, sys } from "../native.ts";
import type { OpOptions } from "../uring/core.ts";
import { Ring } from "../uring/ring.ts";
import { decodeSockaddr, parseIp, sockaddr } from "./address.ts";

let shared: Ring | undefined;

/** The ring sockets use when none is given: one per module, created on first use. */
export function defaultRing(): Ring {
  if (!shared || shared.closed) shared = new Ring({ entries: 256, cqEntries: 4096 });
  return shared;
}

function setInt(fd: number, level: number, name: number, value: number, what: string): void {
  check(sys().setsockopt(fd, level, name, new Int32Array([value]), 4), "setsockopt", { subject: what });
}

/** The local address of a socket (getsockname). */
export function localAddress(fd: number): { readonly hostname: string; readonly port: number; readonly family: 4 | 6 } {
  const buf = sockaddr_storage.alloc();
  const len = new Uint32Array([buf.length]);
  check(sys().getsockname(fd, buf, len), "getsockname", { subject: `socket fd ${fd}` });
  return decodeSockaddr(buf);
}

function openSocket(family: 4 | 6): number {
  return check(sys().socket(family === 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket", {
    subject: `TCP over IPv${family}`,
  });
}

/** Options of {@link listen}. */
export interface ListenOptions {
  /** The address to bind: "127.0.0.1", "::1", "0.0.0.0" (default), "::" (IPv4 and IPv6). */
  readonly hostname?: string;
  /** The port; 0 (default) lets the kernel pick one (see `listener.port`). */
  readonly port?: number;
  /** listen(2)'s backlog. Default 511. */
  readonly backlog?: number;
  /** SO_REUSEPORT: several listeners share the port and the kernel spreads connections. */
  readonly reusePort?: boolean;
  /** The ring that drives accepts and the accepted sockets. */
  readonly ring?: Ring;
}

/** A connected TCP socket. Close it when done; a second close is harmless. */
export class TcpSocket {
  /** The socket's fd. */
  readonly fd: number;
  /** The ring its I/O goes through. */
  readonly ring: Ring;
  #closed = false;

  /** Wraps a connected socket fd; it is owned (closed) by this object. */
  constructor(fd: number, ring: Ring) {
    this.fd = fd;
    this.ring = ring;
  }

  /** True after close(). */
  get closed(): boolean {
    return this.#closed;
  }

  #assertOpen(op: string): void {
    if (this.#closed) throw new KernelError({ errno: 9, syscall: op, subject: `socket fd ${this.fd}`, hint: "the socket was closed" });
  }

  /** Sets TCP_NODELAY (no Nagle delay for small writes). */
  setNoDelay(on = true): void {
    this.#assertOpen("setsockopt");
    setInt(this.fd, IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0, "TCP_NODELAY");
  }

  /** Receives into `buffer`: resolves with the byte count, 0 when the peer has finished sending. */
  recv(buffer: Uint8Array, options?: OpOptions): Promise<number> {
    this.#assertOpen("recv");
    return this.ring.recv(this.fd, buffer, buffer.length, 0, options);
  }

  /** Sends all of `data`, looping over short sends; rejects with the peer's error (EPIPE, ECONNRESET). */
  async send(data: Uint8Array, options?: OpOptions): Promise<void> {
    this.#assertOpen("send");
    let done = 0;
    while (done < data.length) done += await this.ring.send(this.fd, data.subarray(done), data.length - done, 0, options);
  }

  /** Sends several buffers with one sendmsg, looping over short sends. */
  async sendv(buffers: readonly Uint8Array[], options?: OpOptions): Promise<void> {
    this.#assertOpen("sendmsg");
    let rest = buffers.filter((b) => b.length > 0);
    while (rest.length > 0) {
      let n = await this.ring.sendmsg(this.fd, rest, 0, options);
      while (rest.length > 0 && n >= rest[0].length) n -= rest.shift()!.length;
      if (n > 0) rest[0] = rest[0].subarray(n);
    }
  }

  /** Sends `data` without copying it (SEND_ZC); `data` must not change until this resolves. */
  sendZc(data: Uint8Array): Promise<number> {
    this.#assertOpen("send_zc");
    return this.ring.sendZc(this.fd, data);
  }

  /** shutdown(2): "write" (default) sends FIN; "both" also stops receiving. */
  async shutdown(how: "write" | "both" = "write"): Promise<void> {
    this.#assertOpen("shutdown");
    await this.ring.shutdown(this.fd, how === "write" ? SHUT_WR : SHUT_RDWR);
  }

  /**
   * Shuts the socket down, which ends its ops in flight (a recv completes
   * with 0, a send fails with EPIPE), and closes it.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Ops queued this turn reach the kernel while the fd is still open, then
    // shutdown ends them. Not an fd-keyed cancel: the fd number may be reused
    // by the next accept before a queued cancel would run.
    if (!this.ring.closed) this.ring.submit();
    sys().shutdown(this.fd, SHUT_RDWR);
    sys().close(this.fd);
  }

  /** Same as close(). */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** A listening TCP socket. */
export class TcpListener {
  /** The socket's fd. */
  readonly fd: number;
  /** The bound address. */
  readonly hostname: string;
  /** The bound port (the kernel's pick when 0 was asked). */
  readonly port: number;
  /** The ring that accepts and drives the accepted sockets. */
  readonly ring: Ring;
  #closed = false;
  #stream: number | undefined;

  /** Use {@link listen}. */
  constructor(fd: number, ring: Ring) {
    this.fd = fd;
    this.ring = ring;
    const local = localAddress(fd);
    this.hostname = local.hostname;
    this.port = local.port;
  }

  /** Accepts one connection. */
  async accept(options?: OpOptions): Promise<TcpSocket> {
    if (this.#closed) throw new KernelError({ errno: 9, syscall: "accept", subject: `listener fd ${this.fd}`, hint: "the listener was closed" });
    return new TcpSocket(await this.ring.accept(this.fd, SOCK_CLOEXEC, options), this.ring);
  }

  /**
   * Multishot accept: `onConnection` gets each new socket as it arrives, and
   * `onError` a KernelError that ended accepting (not called after close()).
   * One SQE serves every connection.
   */
  serve(onConnection: (socket: TcpSocket) => void, onError: (error: KernelError) => void = () => {}): void {
    if (this.#closed) throw new KernelError({ errno: 9, syscall: "accept", subject: `listener fd ${this.fd}`, hint: "the listener was closed" });
    const arm = () => {
      this.#stream = this.ring.acceptMultishot(this.fd, (res, flags) => {
        if (res >= 0) onConnection(new TcpSocket(res, this.ring));
        if (this.#closed) return;
        if (res < 0 && res !== -125) onError(new KernelError({ errno: -res, syscall: "accept", subject: `listener fd ${this.fd}` }));
        // The kernel ends a multishot accept on some errors (ENFILE, EMFILE); re-arm after those.
        else if ((flags & 2) === 0) arm();
      });
    };
    arm();
  }

  /** Stops accepting and closes the socket. Harmless twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#stream !== undefined) this.ring.cancelStream(this.#stream);
    sys().shutdown(this.fd, SHUT_RDWR);
    sys().close(this.fd);
  }

  /** Same as close(). */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** Opens a listening TCP socket (SO_REUSEADDR on; IPv6 "::" also takes IPv4). */
export function listen(options: ListenOptions = {}): TcpListener {
  const address = parseIp(options.hostname ?? "0.0.0.0", "bind");
  const fd = openSocket(address.family);
  try {
    setInt(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
    if (options.reusePort) setInt(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
    if (address.family === 6) setInt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0, "IPV6_V6ONLY");
    const sa = sockaddr(address, options.port ?? 0);
    const where = `${options.hostname ?? "0.0.0.0"} port ${options.port ?? 0}`;
    check(sys().bind(fd, sa, sa.length), "bind", {
      subject: where,
      hint: "is another process on this port? Pick another port, or 0 for any free one; ports below 1024 need root or CAP_NET_BIND_SERVICE",
    });
    const backlog = options.backlog ?? 511;
    if (!Number.isInteger(backlog) || backlog < 0 || backlog > 0x7fff_ffff) {
      throw new KernelError({
        errno: 22,
        syscall: "listen",
        subject: `${where}, backlog ${backlog}`,
        hint: "the backlog must be an integer from 0 to 2^31 - 1 (the kernel caps it at net.core.somaxconn)",
      });
    }
    check(sys().listen(fd, backlog), "listen", { subject: where });
    return new TcpListener(fd, options.ring ?? defaultRing());
  } catch (e) {
    sys().close(fd);
    throw e;
  }
}

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** The server's address ("127.0.0.1", "::1"). */
  readonly hostname: string;
  /** The server's port. */
  readonly port: number;
  /** The ring to drive the socket. */
  readonly ring?: Ring;
  /** Cancels the connect. */
  readonly signal?: AbortSignal;
}

/** Connects to a TCP server through the ring (IORING_OP_CONNECT). */
export async function connect(options: ConnectOptions): Promise<TcpSocket> {
  const address = parseIp(options.hostname, "connect");
  const ring = options.ring ?? defaultRing();
  const fd = openSocket(address.family);
  try {
    await ring.connect(fd, sockaddr(address, options.port), `${options.hostname} port ${options.port}`, { signal: options.signal });
    return new TcpSocket(fd, ring);
  } catch (e) {
    sys().close(fd);
    throw e;
  }
}

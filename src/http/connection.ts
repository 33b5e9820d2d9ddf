/**
 * One HTTP/1.1 connection: receiving with a multishot RECV into the server's
 * provided buffers, splitting the bytes into request heads (pipelined
 * requests are answered in order), keep-alive, timeouts and an orderly close.
 *
 * Memory: an idle connection holds no receive buffer. Bytes are parsed where
 * the kernel put them (a provided buffer, recycled at once); only a request
 * that arrives in pieces, or the requests pipelined behind the one being
 * answered, are copied into a buffer of the connection's own, which is
 * dropped again when empty. It never grows past the header limit plus one
 * receive buffer: while a response is being written, a client that keeps
 * sending is no longer read from (TCP flow control holds it back).
 *
 * @module
 */
import { ERRNO } from "../../ffi/structs/errno.ts";
import { IORING_CQE_BUFFER_SHIFT, IORING_CQE_F_MORE } from "../../ffi/structs/io_uring.ts";
import { IPPROTO_TCP, SHUT_RDWR, SHUT_WR, TCP_NODELAY } from "../../ffi/structs/socket.ts";
import { KernelError } from "../errors.ts";
import { sys } from "../native.ts";
import type { ProvidedBuffers } from "../uring/bufring.ts";
import { parseRequestHead, type RequestHead } from "./request.ts";
import { respond, sendAll, type StaticContext, type Wire } from "./respond.ts";
import { textResponse } from "./response.ts";

/** What a connection needs from its server. */
export interface ConnectionContext extends StaticContext {
  /** The provided-buffer group the multishot RECVs fill. */
  readonly buffers: ProvidedBuffers;
  /** The largest request head accepted (431 beyond it). */
  readonly maxHeaderSize: number;
  /** Keep-alive idle limit, and the longest a response may make no progress. */
  readonly idleTimeoutMs: number;
  /** The longest a request head may take to arrive once it has begun. */
  readonly headerTimeoutMs: number;
  /** True once the server is closing: answer what is in flight, then close. */
  readonly draining: boolean;
  /** Called once when the connection's fd has been closed. */
  onClosed(connection: Connection): void;
}

const READING = 0;
const LINGERING = 1;
const CLOSED = 2;
/** How long a closing connection drains what the client still sends, so that our last response is not reset. */
const LINGER_MS = 2000;
const EMPTY = new Uint8Array(0);
const ONE = new Int32Array([1]);

/** A served connection. Created by the server for each accepted socket. */
export class Connection implements Wire {
  /** The socket's fd. */
  readonly fd: number;
  /** When the current phase (idle, head, response, linger) times out, in Date.now() ms. */
  deadline: number = 0;
  readonly #ctx: ConnectionContext;
  #state = READING;
  #stream = 0;
  #recvArmed = false;
  #paused = false;
  #eof = false;
  #busy = false;
  #headStarted = false;
  #finalized = false;
  #buf: Uint8Array | null = null;
  #start = 0;
  #end = 0;
  #abort: AbortController | undefined;
  readonly #onRecv = (res: number, flags: number) => this.#received(res, flags);

  /** Takes over the accepted socket `fd` and starts reading. */
  constructor(fd: number, ctx: ConnectionContext) {
    this.fd = fd;
    this.#ctx = ctx;
    // Responses are whole writes; Nagle would only delay the last segment.
    sys().setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, ONE, 4);
    this.deadline = Date.now() + ctx.idleTimeoutMs;
    this.#arm();
  }

  /** Aborted when the connection is torn down. */
  get signal(): AbortSignal {
    this.#abort ??= new AbortController();
    return this.#abort.signal;
  }

  /** The response made progress: push the send deadline back. */
  progress(): void {
    this.deadline = Date.now() + this.#ctx.idleTimeoutMs;
  }

  /** True while no request is being answered and no partial request is buffered. */
  get idle(): boolean {
    return this.#state === READING && !this.#busy && this.#end === this.#start;
  }

  /** Closes the connection if its deadline has passed (called by the server's sweeper). */
  expire(now: number): void {
    if (this.#state !== CLOSED && now >= this.deadline) this.close();
  }

  /** The server is closing: close now if idle, else after the response in flight. */
  drain(): void {
    if (this.#state === READING && !this.#busy) this.close();
  }

  #arm(): void {
    this.#recvArmed = true;
    try {
      this.#stream = this.#ctx.ring.recvMultishot(this.fd, this.#ctx.buffers, this.#onRecv);
    } catch {
      this.#recvArmed = false;
      this.close();
    }
  }

  #received(res: number, flags: number): void {
    const more = (flags & IORING_CQE_F_MORE) !== 0;
    if (!more) this.#recvArmed = false;
    if (res > 0) {
      const id = flags >>> IORING_CQE_BUFFER_SHIFT;
      const { buffers } = this.#ctx;
      try {
        this.#data(buffers.buffer(id, res));
      } finally {
        buffers.recycle(id);
      }
    } else if (res === 0) this.#eof = true;
    else if (res !== -ERRNO.ENOBUFS && res !== -ERRNO.ECANCELED) {
      // ECONNRESET and friends: nothing more can be sent either.
      this.#eof = true;
      this.close();
    }
    if (more) return;
    if (this.#state === CLOSED) this.#finalize();
    else if (this.#eof) this.#onEof();
    // ENOBUFS (every provided buffer was in use), a CQ overflow, or a cancel
    // that was not ours (an ASYNC_CANCEL by fd number that met a reused fd)
    // ended the multishot: arm it again.
    else if (!this.#paused) this.#arm();
  }

  #onEof(): void {
    if (this.#state === LINGERING) this.close();
    else if (!this.#busy) this.#pump();
  }

  #pending(): number {
    return this.#end - this.#start;
  }

  #data(bytes: Uint8Array): void {
    if (this.#state !== READING) return; // lingering: discard
    if (this.#busy || this.#pending() > 0) {
      this.#append(bytes);
      if (!this.#busy) this.#pump();
      else if (this.#pending() > this.#ctx.maxHeaderSize && this.#recvArmed) {
        // A client pipelining faster than it reads: stop reading until we catch up.
        this.#paused = true;
        this.#ctx.ring.cancelStream(this.#stream);
      }
      return;
    }
    this.#pump(bytes);
  }

  #append(bytes: Uint8Array): void {
    if (this.#buf === null) {
      this.#buf = new Uint8Array(Math.max(2048, bytes.length * 2));
      this.#start = this.#end = 0;
    } else if (this.#end + bytes.length > this.#buf.length) {
      const pending = this.#pending();
      const need = pending + bytes.length;
      if (need > this.#buf.length) {
        const grown = new Uint8Array(need * 2);
        grown.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = grown;
      } else this.#buf.copyWithin(0, this.#start, this.#end);
      this.#start = 0;
      this.#end = pending;
    }
    this.#buf.set(bytes, this.#end);
    this.#end += bytes.length;
  }

  #consume(n: number): void {
    this.#start += n;
    if (this.#start === this.#end) {
      // Empty again: give the memory back (an idle connection holds none).
      this.#buf = null;
      this.#start = this.#end = 0;
    }
  }

  /**
   * Parses and answers what has arrived: `fresh` is a provided buffer's bytes
   * when nothing was pending (parsed in place; what is left is copied).
   */
  #pump(fresh?: Uint8Array): void {
    while (this.#state === READING && !this.#busy) {
      const view = fresh ?? (this.#buf === null ? EMPTY : this.#buf.subarray(this.#start, this.#end));
      if (view.length === 0) {
        if (this.#eof) return this.close();
        this.#headStarted = false;
        this.deadline = Date.now() + this.#ctx.idleTimeoutMs;
        if (this.#paused) this.#resume();
        return;
      }
      const r = parseRequestHead(view, { maxHeaderSize: this.#ctx.maxHeaderSize });
      if (r.kind === "incomplete") {
        if (fresh) this.#append(fresh);
        if (this.#eof) return this.close();
        if (!this.#headStarted) {
          this.#headStarted = true;
          this.deadline = Date.now() + this.#ctx.headerTimeoutMs;
        }
        if (this.#paused) this.#resume();
        return;
      }
      if (r.kind === "error") {
        this.#buf = null;
        this.#start = this.#end = 0;
        this.#answerError(r.status);
        return;
      }
      if (fresh) {
        if (r.head.length < fresh.length) this.#append(fresh.subarray(r.head.length));
        fresh = undefined;
      } else this.#consume(r.head.length);
      this.#headStarted = false;
      this.#answer(r.head);
    }
  }

  #resume(): void {
    this.#paused = false;
    if (!this.#recvArmed) this.#arm();
  }

  #answer(head: RequestHead): void {
    // A request body is not read: answer, then close, so its bytes are never taken for a request.
    const hasBody = head.contentLength > 0 || head.chunked;
    const keepAlive = head.keepAlive && !hasBody && !this.#ctx.draining;
    this.#busy = true;
    this.progress();
    respond(this.#ctx, this, head, keepAlive).then(
      (whole) => this.#answered(whole && keepAlive, hasBody),
      (e: unknown) => this.#failed(e),
    );
  }

  #answerError(status: number): void {
    this.#busy = true;
    this.progress();
    sendAll(this.#ctx.ring, this, textResponse(status, 1, false, true)).then(
      () => this.#answered(false, true),
      (e: unknown) => this.#failed(e),
    );
  }

  /** A send failed (the peer went away, or the connection was torn down): nothing more can be said. */
  #failed(error: unknown): void {
    // A KernelError is the peer's doing; anything else is a bug here, worth a trace.
    if (!(error instanceof KernelError)) console.error("kernelkit serveStatic: unexpected error while answering", error);
    this.#busy = false;
    this.close();
    this.#finalize();
  }

  #answered(keepAlive: boolean, linger: boolean): void {
    this.#busy = false;
    if (this.#state === CLOSED) return this.#finalize();
    if (keepAlive && !this.#ctx.draining) return this.#pump();
    if (!linger && this.#pending() === 0) return this.close();
    this.#linger();
  }

  /**
   * Sends FIN and reads (discarding) until the client closes too, or
   * LINGER_MS pass: closing with unread bytes would send RST, which can
   * destroy the response before the client has read it.
   */
  #linger(): void {
    this.#state = LINGERING;
    this.#buf = null;
    this.#start = this.#end = 0;
    sys().shutdown(this.fd, SHUT_WR);
    this.deadline = Date.now() + Math.min(LINGER_MS, this.#ctx.idleTimeoutMs);
    if (this.#eof) this.close();
    else if (!this.#recvArmed) this.#resume();
  }

  /**
   * Tears the connection down: shutdown(SHUT_RDWR) ends the pending RECV and
   * fails any send, the abort signal cancels a body transfer, and the fd is
   * closed once no op in flight can still name it (so a new connection that
   * gets the same fd number is never touched by this one's ops).
   */
  close(): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    this.#buf = null;
    this.#start = this.#end = 0;
    sys().shutdown(this.fd, SHUT_RDWR);
    this.#abort?.abort();
    if (this.#recvArmed) this.#ctx.ring.cancelStream(this.#stream);
    this.#finalize();
  }

  #finalize(): void {
    if (this.#finalized || this.#state !== CLOSED || this.#recvArmed || this.#busy) return;
    this.#finalized = true;
    sys().close(this.fd);
    this.#ctx.onClosed(this);
  }
}

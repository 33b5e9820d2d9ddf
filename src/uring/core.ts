/**
 * RingCore: an io_uring instance driven from TypeScript. It owns the shared
 * rings, the in-flight table, submission, completion and waiting. The named
 * ops live in `ring.ts`, the batch API in `prep.ts`.
 *
 * The hot path makes no FFI call per SQE and no BigInt per op: SQEs are
 * written into the shared array, the tail is published with Atomics once per
 * flush, and CQEs are read from the shared CQ ring. `user_data` is a slot of
 * the in-flight table (low word) and that slot's generation (high word).
 *
 * @module
 */
import { setImmediate } from "node:timers";
import { EventfdWaker } from "../../ffi/runtime/eventfd_waker.ts";
import { runtime } from "../../ffi/runtime/mod.ts";
import {
  IORING_ASYNC_CANCEL_ALL,
  IORING_ASYNC_CANCEL_ANY,
  IORING_ASYNC_CANCEL_FD,
  IORING_CQE_F_MORE,
  IOSQE_ASYNC,
  IOSQE_FIXED_FILE,
  IOSQE_IO_DRAIN,
  IOSQE_IO_HARDLINK,
  IOSQE_IO_LINK,
  IORING_ENTER_EXT_ARG,
  IORING_ENTER_GETEVENTS,
  IORING_ENTER_SQ_WAKEUP,
  IORING_OP_ASYNC_CANCEL,
  IORING_REGISTER_EVENTFD,
  IORING_SETUP_COOP_TASKRUN,
  IORING_SETUP_CQSIZE,
  IORING_SETUP_DEFER_TASKRUN,
  IORING_SETUP_SINGLE_ISSUER,
  IORING_SETUP_SQ_AFF,
  IORING_SETUP_SQPOLL,
  IORING_SETUP_TASKRUN_FLAG,
  IORING_SQ_CQ_OVERFLOW,
  IORING_SQ_NEED_WAKEUP,
  IORING_SQ_TASKRUN,
  io_uring_getevents_arg,
  io_uring_params,
} from "../../ffi/structs/io_uring.ts";
import { __kernel_timespec } from "../../ffi/structs/time.ts";
import { KernelError } from "../errors.ts";
import { badFd, check, checkFd, libc, liburing, sys } from "../native.ts";
import { opcodeName, type OpcodeSupport, probeOpcodes, setupRingFd } from "./probe.ts";
import { mapRings, type RingMemory } from "./rings.ts";
import { writeSqe } from "./sqe.ts";

/** Microtask flushes in a row before one waits for the event loop (see RingCore's #scheduleFlush). */
const FLUSH_STREAK = 256;

/** Options of a ring. */
export interface RingOptions {
  /** SQ size: a power of two from 1 to 32768. Default 256. */
  readonly entries?: number;
  /** CQ size: a power of two, at least `entries`, up to 65536. Default 2 × entries. */
  readonly cqEntries?: number;
  /**
   * A kernel thread polls the SQ, so submitting needs no system call while it
   * is awake. `idleMs`: how long it spins before sleeping; `cpu`: pin it.
   */
  readonly sqpoll?: { readonly idleMs: number; readonly cpu?: number };
  /** IORING_SETUP_SINGLE_ISSUER: only this thread submits (kernel 6.0). */
  readonly singleIssuer?: boolean;
  /** IORING_SETUP_COOP_TASKRUN: no IPI to run completions (kernel 5.19). */
  readonly coopTaskrun?: boolean;
  /** IORING_SETUP_DEFER_TASKRUN: completions run only when this process waits (kernel 6.1; implies singleIssuer). */
  readonly deferTaskrun?: boolean;
  /**
   * How completions are awaited. "eventfd" (default): a worker thread blocks on
   * the ring's eventfd, so an idle ring costs no CPU. "busy": poll every turn of
   * the event loop, the lowest latency at the cost of a busy core.
   */
  readonly poll?: "eventfd" | "busy";
}

/** One completion of the batch API. Objects are reused: copy what you keep. */
export interface Completion {
  /** The user data given to `ring.prep.<op>`. */
  userData: number;
  /** The op's result: >= 0 on success, -errno on failure. */
  res: number;
  /** IORING_CQE_F_* flags. */
  flags: number;
}

/** Options every op takes. */
export interface OpOptions {
  /** Cancels the op (ASYNC_CANCEL, TIMEOUT_REMOVE or POLL_REMOVE); it then rejects with ECANCELED. */
  readonly signal?: AbortSignal;
  /** Link the next op to this one: "soft" (IOSQE_IO_LINK) runs it only on success, "hard" always. */
  readonly link?: "soft" | "hard";
  /** IOSQE_IO_DRAIN: start only after every earlier op has completed. */
  readonly drain?: boolean;
  /** IOSQE_ASYNC: go straight to an io-wq worker. */
  readonly async?: boolean;
  /** IOSQE_FIXED_FILE: the fd argument is an index into the files of registerFiles(). */
  readonly fixedFile?: boolean;
}

/** Counters of a ring's work, for benchmarks and the tour. */
export interface RingStats {
  /** io_uring_enter calls made. */
  enters: number;
  /** Completions reaped. */
  completed: number;
  /** Times the waker (or busy poll) woke the ring. */
  wakeups: number;
}

const KIND_PROMISE = 1;
const KIND_BATCH = 2;
const KIND_STREAM = 3;

/** Called with each CQE of a multishot op until one comes without IORING_CQE_F_MORE. */
export type StreamHandler = (res: number, flags: number) => void;

/** Buffers the kernel may still touch after a ring was closed without their completions: kept forever. */
const abandoned = new Set<unknown>();

interface Teardown {
  fd: number;
  unmap: () => void;
  waker: EventfdWaker | undefined;
}

function teardown(t: Teardown): void {
  // Closing the ring fd drops its eventfd registration; the waker goes back to the pool.
  t.waker?.release();
  t.unmap();
  sys().close(t.fd);
}

const leaked = new FinalizationRegistry<Teardown>(teardown);

/**
 * The NULL `sigset_t *` of io_uring_enter, given as a bigint: Deno converts a
 * number passed for a pointer-sized parameter on a slow path (measured here:
 * about 0.2 µs per call; 0.72 → 0.40 µs per batch-1 NOP), a bigint on its fast
 * path, and Bun takes either at the same cost. Both adapters accept a bigint
 * for a "ptr" parameter; the symbol types only say number.
 */
const NO_SIGSET = 0n as unknown as number;

function invalid(syscall: string, subject: string, hint: string): KernelError {
  return new KernelError({ errno: 22, syscall, subject, hint });
}

const isPowerOfTwo = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** The io_uring instance under the named ops of {@link Ring}. */
export class RingCore {
  /** The ring's file descriptor. */
  readonly fd: number;
  /** SQ size granted by the kernel. */
  readonly sqEntries: number;
  /** CQ size granted by the kernel. */
  readonly cqEntries: number;
  /** IORING_FEAT_* bits of this kernel. */
  readonly features: number;
  /** IORING_SETUP_* flags the ring was created with. */
  readonly setupFlags: number;
  /** Work counters. */
  readonly stats: RingStats = { enters: 0, completed: 0, wakeups: 0 };

  #mem: RingMemory;
  #teardown: Teardown;
  #tail: number;
  /** The SQ head as last read from the shared ring (see #nextSqe). */
  #sqHead: number;
  #unsubmitted = 0;
  #sqpoll: boolean;
  #getEventsOnEnter: boolean;
  #busy: boolean;
  #supported: Uint8Array;

  // The in-flight table: one entry per op the kernel may still be working on.
  #gen: Uint32Array = new Uint32Array(64);
  #kind: Uint8Array = new Uint8Array(64);
  #opcode: Uint8Array = new Uint8Array(64);
  #fd: Int32Array = new Int32Array(64);
  #user: Uint32Array = new Uint32Array(64);
  #okErrno: Int32Array = new Int32Array(64);
  #resolve: Array<((v: number) => void) | StreamHandler | undefined> = [];
  #reject: Array<((e: unknown) => void) | undefined> = [];
  #keep: unknown[] = [];
  #subject: Array<string | undefined> = [];
  #abort: Array<(() => void) | undefined> = [];
  #signal: Array<AbortSignal | undefined> = [];
  #free: number[] = [];
  #pending = 0;

  #backlog: Array<(index: number) => void> = [];
  #batch: Completion[] = [];
  #batchCount = 0;
  #flushQueued = false;
  /** Flushes run from microtasks since the event loop last had a turn (see #scheduleFlush). */
  #flushStreak = 0;
  #waiting = false;
  #closed = false;
  #closing = false;
  #waker: EventfdWaker | undefined;
  readonly #flushBound = () => this.#flush();
  readonly #endStreakBound = () => {
    this.#flushStreak = 0;
  };
  readonly #onWakeBound = () => this.#onWake();
  /** A look at the SQ head is queued for the backlog (see #drainBacklog). */
  #backlogRetry = false;
  readonly #retryBacklogBound = () => {
    this.#backlogRetry = false;
    if (!this.#closed) this.#drainBacklog();
  };

  /** Sets up the ring and maps its memory. Throws a KernelError when the kernel refuses. */
  constructor(options: RingOptions = {}) {
    const entries = options.entries ?? 256;
    if (!isPowerOfTwo(entries) || entries > 32768) {
      throw invalid("io_uring_setup", `${entries} entries`, "entries must be a power of two from 1 to 32768, such as 256");
    }
    let flags = 0;
    const cqEntries = options.cqEntries ?? 0;
    if (options.cqEntries !== undefined) {
      if (!isPowerOfTwo(cqEntries) || cqEntries < entries || cqEntries > 65536) {
        throw invalid(
          "io_uring_setup",
          `${cqEntries} CQ entries`,
          "cqEntries must be a power of two, at least entries and at most 65536",
        );
      }
      flags |= IORING_SETUP_CQSIZE;
    }
    if (options.sqpoll) {
      const { idleMs, cpu } = options.sqpoll;
      // sq_thread_idle and sq_thread_cpu are u32s: anything else would wrap into another value.
      if (!Number.isSafeInteger(idleMs) || idleMs < 0 || idleMs > 0xffff_ffff) {
        throw invalid("io_uring_setup", `sqpoll.idleMs ${idleMs}`, "sqpoll.idleMs is whole milliseconds from 0 to 2^32 - 1, such as 1000");
      }
      if (cpu !== undefined && (!Number.isSafeInteger(cpu) || cpu < 0 || cpu > 0xffff_ffff)) {
        throw invalid("io_uring_setup", `sqpoll.cpu ${cpu}`, "sqpoll.cpu is a CPU number, 0 or more (see nproc)");
      }
      flags |= IORING_SETUP_SQPOLL;
      if (cpu !== undefined) flags |= IORING_SETUP_SQ_AFF;
    }
    if (options.poll !== undefined && options.poll !== "eventfd" && options.poll !== "busy") {
      throw invalid("io_uring_setup", `poll ${JSON.stringify(options.poll)}`, 'poll is "eventfd" (the default) or "busy"');
    }
    if (options.singleIssuer || options.deferTaskrun) flags |= IORING_SETUP_SINGLE_ISSUER;
    if (options.coopTaskrun) flags |= IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
    if (options.deferTaskrun) flags |= IORING_SETUP_DEFER_TASKRUN;
    const { fd, params } = setupRingFd(entries, {
      flags,
      sqThreadIdle: options.sqpoll?.idleMs ?? 0,
      sqThreadCpu: options.sqpoll?.cpu ?? 0,
      cqEntries,
    });
    let mem: RingMemory;
    try {
      mem = mapRings(fd, params);
    } catch (e) {
      sys().close(fd);
      throw e;
    }
    this.fd = fd;
    this.#mem = mem;
    this.sqEntries = mem.sqEntries;
    this.cqEntries = mem.cqEntries;
    this.features = io_uring_params.read(params, 0, "features");
    this.setupFlags = flags;
    this.#sqpoll = options.sqpoll !== undefined;
    this.#getEventsOnEnter = options.deferTaskrun === true;
    this.#busy = options.poll === "busy";
    this.#tail = mem.sq[mem.sqTail];
    this.#sqHead = mem.sq[mem.sqHead];
    this.#teardown = { fd, unmap: mem.unmap, waker: undefined };
    this.#supported = new Uint8Array(256);
    try {
      for (const op of probeOpcodes(fd)) if (op.supported) this.#supported[op.opcode] = 1;
    } catch {
      // Kernels before 5.6 have no probe; every op is tried and the kernel answers.
      this.#supported.fill(1);
    }
    leaked.register(this, this.#teardown, this);
  }

  /** The ops this kernel supports, from IORING_REGISTER_PROBE. */
  probe(): OpcodeSupport[] {
    this.assertOpen("io_uring_register");
    return probeOpcodes(this.fd);
  }

  /** True once close() has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Ops submitted or queued whose completion has not been reaped. */
  get pending(): number {
    return this.#pending;
  }

  /** CQEs waiting in the CQ ring, not yet reaped. Throws EBADF once the ring is closed. */
  cqReady(): number {
    if (this.#closed) this.assertOpen("io_uring_enter");
    const m = this.#mem;
    return (Atomics.load(m.cq, m.cqTail) - m.cq[m.cqHead]) >>> 0;
  }

  /** Throws EBADF when the ring is closed. */
  protected assertOpen(syscall: string): void {
    if (this.#closed) {
      throw new KernelError({
        errno: 9,
        syscall,
        subject: "a closed io_uring",
        hint: "the ring was closed; create a new Ring",
      });
    }
  }

  /** The KernelError for an op that this kernel lacks, or null. */
  protected unsupported(opcode: number): KernelError | null {
    if (this.#supported[opcode]) return null;
    const name = opcodeName(opcode);
    return new KernelError({
      errno: 95,
      syscall: name,
      feature: `io_uring op ${name}`,
      message: `io_uring op ${name} is not supported by this kernel (IORING_REGISTER_PROBE)`,
      hint: "upgrade the kernel, or use the equivalent system call",
    });
  }

  #allocSlot(kind: number): number {
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = this.#resolve.length;
      if (slot >= this.#gen.length) this.#grow();
      this.#resolve.push(undefined);
      this.#reject.push(undefined);
      this.#keep.push(undefined);
      this.#subject.push(undefined);
      this.#abort.push(undefined);
      this.#signal.push(undefined);
    }
    this.#gen[slot] = (this.#gen[slot] % 0x7fff_ffff) + 1;
    this.#kind[slot] = kind;
    this.#pending++;
    return slot;
  }

  #grow(): void {
    const n = this.#gen.length * 2;
    const grow = <T extends Uint32Array | Uint8Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.#gen = grow(this.#gen, (k) => new Uint32Array(k));
    this.#kind = grow(this.#kind, (k) => new Uint8Array(k));
    this.#opcode = grow(this.#opcode, (k) => new Uint8Array(k));
    this.#fd = grow(this.#fd, (k) => new Int32Array(k));
    this.#user = grow(this.#user, (k) => new Uint32Array(k));
    this.#okErrno = grow(this.#okErrno, (k) => new Int32Array(k));
  }

  #freeSlot(slot: number): void {
    this.#resolve[slot] = undefined;
    this.#reject[slot] = undefined;
    this.#keep[slot] = undefined;
    this.#subject[slot] = undefined;
    const abort = this.#abort[slot];
    if (abort) {
      this.#signal[slot]!.removeEventListener("abort", abort);
      this.#abort[slot] = undefined;
      this.#signal[slot] = undefined;
    }
    this.#kind[slot] = 0;
    this.#free.push(slot);
    this.#pending--;
  }

  /** The next free SQE index, or -1 when the SQ is full even after submitting. */
  #nextSqe(): number {
    const m = this.#mem;
    // The kernel only moves the SQ head forward, so the head last read is a
    // safe (conservative) answer; the shared one is read only when that looks full.
    if (((this.#tail - this.#sqHead) >>> 0) >= m.sqEntries) {
      this.#sqHead = Atomics.load(m.sq, m.sqHead);
      if (((this.#tail - this.#sqHead) >>> 0) >= m.sqEntries) {
        this.#submitNow();
        this.#sqHead = Atomics.load(m.sq, m.sqHead);
        if (((this.#tail - this.#sqHead) >>> 0) >= m.sqEntries) return -1;
      }
    }
    const index = this.#tail & m.sqMask;
    this.#tail = (this.#tail + 1) >>> 0;
    this.#unsubmitted++;
    return index;
  }

  /**
   * Queues one op and returns its completion as a promise: the result, or a
   * KernelError named after the op. `keep` holds every buffer the kernel will
   * touch until the CQE arrives. `extra` fills SQE fields beyond the common ones.
   */
  protected submitOp(
    opcode: number,
    fd: number,
    off: number,
    addr: number,
    len: number,
    opFlags: number,
    keep: unknown,
    options: OpOptions | undefined,
    subject?: string,
    extra?: (sqes: Uint32Array, index: number) => void,
    okErrno = 0,
    ioprio = 0,
  ): Promise<number> {
    if (this.#closed) return Promise.reject(this.#closedError(opcodeName(opcode)));
    if ((fd | 0) !== fd) return Promise.reject(badFd(fd, opcodeName(opcode)));
    const lacking = this.unsupported(opcode);
    if (lacking) return Promise.reject(lacking);
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(this.#abortError(opcode, fd, subject, signal));
    let resolve!: (v: number) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<number>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const slot = this.#allocSlot(KIND_PROMISE);
    this.#resolve[slot] = resolve;
    this.#reject[slot] = reject;
    this.#keep[slot] = keep;
    this.#subject[slot] = subject;
    this.#opcode[slot] = opcode;
    this.#fd[slot] = fd;
    this.#okErrno[slot] = okErrno;
    if (signal) this.#watchSignal(slot, signal);
    this.#place(slot, opcode, sqeFlags(options), ioprio, fd, off, addr, len, opFlags, extra);
    this.#scheduleFlush();
    return promise;
  }

  /**
   * Queues a multishot op: `handler` gets every CQE until one arrives without
   * IORING_CQE_F_MORE. Returns the slot's user data, for cancellation.
   */
  protected submitStream(
    opcode: number,
    fd: number,
    off: number,
    addr: number,
    len: number,
    opFlags: number,
    ioprio: number,
    keep: unknown,
    handler: StreamHandler,
    extra?: (sqes: Uint32Array, index: number) => void,
    flags = 0,
  ): number {
    const slot = this.#claim(KIND_STREAM, opcode, fd, keep);
    this.#resolve[slot] = handler;
    this.#place(slot, opcode, flags, ioprio, fd, off, addr, len, opFlags, extra);
    this.#scheduleFlush();
    return this.#gen[slot] * 0x1_0000_0000 + slot;
  }

  /**
   * Batch API: queues one op for `ring.submit()`. Its completion appears in
   * `ring.completions()` with `userData` (a u32).
   */
  protected prepOp(
    opcode: number,
    fd: number,
    off: number,
    addr: number,
    len: number,
    opFlags: number,
    userData: number,
    keep: unknown,
    flags: number,
    extra?: (sqes: Uint32Array, index: number) => void,
    ioprio = 0,
  ): void {
    const slot = this.#claim(KIND_BATCH, opcode, fd, keep);
    this.#user[slot] = userData;
    this.#place(slot, opcode, flags, ioprio, fd, off, addr, len, opFlags, extra);
  }

  /** Checks the ring is open and the op supported, then takes a slot holding `keep`. */
  #claim(kind: number, opcode: number, fd: number, keep: unknown): number {
    if (this.#closed) this.assertOpen(opcodeName(opcode));
    if ((fd | 0) !== fd) throw badFd(fd, opcodeName(opcode));
    const lacking = this.unsupported(opcode);
    if (lacking) throw lacking;
    const slot = this.#allocSlot(kind);
    this.#keep[slot] = keep;
    this.#opcode[slot] = opcode;
    this.#fd[slot] = fd;
    return slot;
  }

  #place(
    slot: number,
    opcode: number,
    flags: number,
    ioprio: number,
    fd: number,
    off: number,
    addr: number,
    len: number,
    opFlags: number,
    extra: ((sqes: Uint32Array, index: number) => void) | undefined,
  ): void {
    const gen = this.#gen[slot];
    const index = this.#nextSqe();
    if (index >= 0) {
      // The common case writes the SQE in place: no closure per op (bench/uring-nop.ts).
      const sqes = this.#mem.sqes;
      writeSqe(sqes, index, opcode, flags, ioprio, fd, off, addr, len, opFlags, slot, gen);
      if (extra) extra(sqes, index);
      return;
    }
    // A full SQ (SQPOLL not keeping up) queues the op in JS instead of failing it.
    this.#backlog.push((i: number) => {
      writeSqe(this.#mem.sqes, i, opcode, flags, ioprio, fd, off, addr, len, opFlags, slot, gen);
      if (extra) extra(this.#mem.sqes, i);
    });
  }

  /** An internal SQE whose completion is ignored (user_data high word 0). */
  #placeInternal(opcode: number, fd: number, addr: number, opFlags: number, off = 0): void {
    const index = this.#nextSqe();
    const write = (i: number) => writeSqe(this.#mem.sqes, i, opcode, 0, 0, fd, off, addr, 0, opFlags, 0, 0);
    if (index < 0) this.#backlog.push(write);
    else write(index);
    this.#scheduleFlush();
  }

  #watchSignal(slot: number, signal: AbortSignal): void {
    const userData = this.#gen[slot] * 0x1_0000_0000 + slot;
    const onAbort = () => {
      if (this.#closed || this.#kind[slot] === 0 || this.#gen[slot] * 0x1_0000_0000 + slot !== userData) return;
      this.cancelOp(userData, this.#opcode[slot]);
    };
    this.#abort[slot] = onAbort;
    this.#signal[slot] = signal;
    signal.addEventListener("abort", onAbort, { once: true });
  }

  /**
   * Submits the op that cancels the op with `userData`: ASYNC_CANCEL by
   * default; `ring.ts` overrides it for timeouts and polls.
   */
  protected cancelOp(userData: number, _opcode: number): void {
    this.#placeInternal(IORING_OP_ASYNC_CANCEL, -1, userData, 0);
  }

  /**
   * Cancels a multishot op by the handle submitStream returned. Its handler
   * then gets a final CQE without IORING_CQE_F_MORE. Harmless when it has ended.
   */
  cancelStream(handle: number): void {
    if (this.#closed) return;
    const slot = handle % 0x1_0000_0000;
    if (this.#kind[slot] !== KIND_STREAM || this.#gen[slot] !== Math.floor(handle / 0x1_0000_0000)) return;
    this.cancelOp(handle, this.#opcode[slot]);
  }

  /**
   * Cancels every op in flight on `fd` (ASYNC_CANCEL with IORING_ASYNC_CANCEL_FD
   * | ALL, Linux 5.19); they reject with ECANCELED. The cancel is submitted at
   * once, so the fd may be closed right after (with SQPOLL, wait a turn first).
   */
  cancelFd(fd: number): void {
    if (this.#closed) return;
    checkFd(fd, "async_cancel");
    this.#placeInternal(IORING_OP_ASYNC_CANCEL, fd, 0, IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL);
    this.#submitNow();
  }

  /** Queues an internal op (completion ignored) for subclasses: timeout and poll removal. */
  protected placeInternal(opcode: number, fd: number, addr: number, opFlags: number, off = 0): void {
    this.#placeInternal(opcode, fd, addr, opFlags, off);
  }

  /**
   * Flushes from a microtask, so that every op started in this JS turn goes
   * in with one io_uring_enter. Ops that complete at submit time (a read from
   * the page cache) are reaped in the same flush, so a loop that awaits one
   * op after another would run on microtasks alone and starve timers and I/O.
   * So a marker macrotask ends each streak, and after FLUSH_STREAK flushes
   * without one, the next flush waits for the event loop's turn.
   */
  #scheduleFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    if (this.#flushStreak === 0) setImmediate(this.#endStreakBound);
    if (++this.#flushStreak > FLUSH_STREAK) setImmediate(this.#flushBound);
    else queueMicrotask(this.#flushBound);
  }

  #flush(): void {
    this.#flushQueued = false;
    if (this.#closed) return;
    try {
      this.#submitNow();
    } catch (e) {
      this.#failAll(e);
      return;
    }
    this.#reap();
    this.#drainBacklog();
    this.#armWait();
  }

  #enter(toSubmit: number, minComplete: number, flags: number): number {
    this.stats.enters++;
    return liburing().symbols.io_uring_enter(this.fd, toSubmit, minComplete, flags, NO_SIGSET);
  }

  /** Publishes the tail and tells the kernel; returns how many SQEs it consumed. */
  #submitNow(): number {
    const m = this.#mem;
    if (this.#unsubmitted === 0) return 0;
    Atomics.store(m.sq, m.sqTail, this.#tail);
    if (this.#sqpoll) {
      // The SQ thread picks the entries up; a syscall only when it sleeps.
      if (Atomics.load(m.sq, m.sqFlags) & IORING_SQ_NEED_WAKEUP) this.#enter(0, 0, IORING_ENTER_SQ_WAKEUP);
      const n = this.#unsubmitted;
      this.#unsubmitted = 0;
      return n;
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = this.#enter(this.#unsubmitted, 0, this.#getEventsOnEnter ? IORING_ENTER_GETEVENTS : 0);
      if (r >= 0) {
        this.#unsubmitted -= r;
        return r;
      }
      if (r === -4) continue; // EINTR
      // EAGAIN, EBUSY: the CQ is overflowing; reaping makes room, and the next flush retries.
      if (r === -11 || r === -16) {
        this.#reap();
        continue;
      }
      throw new KernelError({ errno: -r, syscall: "io_uring_enter", subject: `ring fd ${this.fd}` });
    }
    return 0;
  }

  /** Reaps every CQE in the CQ ring (and the kernel's overflow list); returns how many. */
  #reap(): number {
    const m = this.#mem;
    const cq = m.cq;
    let total = 0;
    for (;;) {
      let head = cq[m.cqHead];
      const tail = Atomics.load(cq, m.cqTail);
      while (head !== tail) {
        const w = m.cqes + ((head & m.cqMask) << 2);
        const lo = cq[w];
        const hi = cq[w + 1];
        const res = m.cqSigned[w + 2];
        const flags = cq[w + 3];
        head = (head + 1) >>> 0;
        total++;
        if (hi !== 0 && this.#gen[lo] === hi) this.#complete(lo, res, flags);
      }
      Atomics.store(cq, m.cqHead, head);
      const sqFlags = Atomics.load(m.sq, m.sqFlags);
      if ((sqFlags & IORING_SQ_CQ_OVERFLOW) === 0 || this.#closed) break;
      // Completions wait in the kernel's overflow list: GETEVENTS flushes them into the CQ.
      this.#enter(0, 0, IORING_ENTER_GETEVENTS);
    }
    this.stats.completed += total;
    return total;
  }

  #complete(slot: number, res: number, flags: number): void {
    const kind = this.#kind[slot];
    if (kind === KIND_PROMISE) {
      const resolve = this.#resolve[slot] as (v: number) => void;
      const reject = this.#reject[slot]!;
      if (res < 0 && -res !== this.#okErrno[slot]) {
        const err = this.#opError(slot, res);
        this.#freeSlot(slot);
        reject(err);
      } else {
        this.#freeSlot(slot);
        resolve(res < 0 ? 0 : res);
      }
    } else if (kind === KIND_BATCH) {
      let c = this.#batch[this.#batchCount];
      if (c === undefined) c = this.#batch[this.#batchCount] = { userData: 0, res: 0, flags: 0 };
      this.#batchCount++;
      c.userData = this.#user[slot];
      c.res = res;
      c.flags = flags;
      if ((flags & IORING_CQE_F_MORE) === 0) this.#freeSlot(slot);
    } else if (kind === KIND_STREAM) {
      const handler = this.#resolve[slot] as StreamHandler;
      if ((flags & IORING_CQE_F_MORE) === 0) this.#freeSlot(slot);
      handler(res, flags);
    }
  }

  #opError(slot: number, res: number): KernelError {
    const opcode = this.#opcode[slot];
    const subject = this.#subject[slot] ?? `fd ${this.#fd[slot]}`;
    const signal = this.#signal[slot];
    // An op canceled while blocked in an io-wq worker (splice from an empty pipe)
    // is interrupted rather than canceled: EINTR, or ERESTARTSYS (512) leaked by the kernel.
    const canceled = res === -125 || res === -4 || res === -512;
    if (canceled && (signal?.aborted || this.#closing)) {
      return this.#abortError(opcode, this.#fd[slot], this.#subject[slot], signal);
    }
    if (res === -125) {
      // Neither its signal nor close(): the kernel canceled it as part of a linked chain.
      return new KernelError({
        errno: 125,
        syscall: opcodeName(opcode),
        subject,
        hint: "it was linked: an earlier op of its chain failed (or was short), or its link_timeout fired",
      });
    }
    return new KernelError({ errno: -res, syscall: opcodeName(opcode), subject });
  }

  #abortError(opcode: number, fd: number, subject: string | undefined, signal: AbortSignal | undefined): KernelError {
    const why = signal?.aborted ? "its AbortSignal fired" : "the ring was closed";
    return new KernelError({
      errno: 125,
      syscall: opcodeName(opcode),
      subject: subject ?? `fd ${fd}`,
      message: `${opcodeName(opcode)}(${subject ?? `fd ${fd}`}) was canceled: ${why}`,
      hint: signal?.aborted ? "the op was canceled on request" : "keep the ring open until its ops complete",
      cause: signal?.aborted ? signal.reason : undefined,
    });
  }

  #closedError(syscall: string): KernelError {
    return new KernelError({
      errno: 9,
      syscall,
      subject: "a closed io_uring",
      hint: "the ring was closed; create a new Ring",
    });
  }

  #drainBacklog(): void {
    while (this.#backlog.length > 0) {
      const index = this.#nextSqe();
      if (index < 0) break;
      this.#backlog.shift()!(index);
      this.#scheduleFlush();
    }
    // An SQ thread posts the CQEs of the entries it took before it stores the
    // new SQ head, and nothing signals that store. So the SQ can look full
    // after every completion has been reaped, with nothing left to wake this
    // ring: look again on the next turn, until the backlog is placed.
    if (this.#backlog.length > 0 && this.#sqpoll && !this.#backlogRetry && !this.#closed) {
      this.#backlogRetry = true;
      setImmediate(this.#retryBacklogBound);
    }
  }

  #failAll(error: unknown): void {
    for (let slot = 0; slot < this.#resolve.length; slot++) {
      if (this.#kind[slot] === KIND_PROMISE) {
        const reject = this.#reject[slot]!;
        this.#freeSlot(slot);
        reject(error);
      }
    }
  }

  #armWait(): void {
    if (this.#waiting || this.#pending === 0 || this.#closed) return;
    this.#waiting = true;
    if (this.#busy) {
      setImmediate(this.#onWakeBound);
      return;
    }
    this.#waker ??= this.#startWaker();
    // Generation first, then the CQ: a CQE posted before the eventfd was
    // registered, or while the worker was between reads, is not missed.
    const seen = this.#waker.generation();
    // DEFER_TASKRUN: a completion waits as task work, not in the CQ, until this
    // thread enters the kernel, and the kernel writes the eventfd only for the
    // first one. One that came before `seen` was read (an op finished by io-wq
    // right after the submit) would be waited for forever: flush it into the CQ now.
    if (this.#getEventsOnEnter) this.#enter(0, 0, IORING_ENTER_GETEVENTS);
    if (this.cqReady() > 0) queueMicrotask(this.#onWakeBound);
    else this.#waker.wait(seen).then(this.#onWakeBound);
  }

  #startWaker(): EventfdWaker {
    const waker = EventfdWaker.acquire(libc());
    if (!waker) check(-1, "eventfd", { subject: "the ring's completion waker" });
    const arg = new Int32Array([waker!.eventfd]);
    const r = liburing().symbols.io_uring_register(this.fd, IORING_REGISTER_EVENTFD, runtime().addressOf(arg), 1);
    if (r < 0) {
      waker!.release();
      throw new KernelError({ errno: -r, syscall: "io_uring_register", subject: "IORING_REGISTER_EVENTFD" });
    }
    this.#teardown.waker = waker!;
    return waker!;
  }


  #onWake(): void {
    this.#waiting = false;
    if (this.#closed) return;
    this.stats.wakeups++;
    const m = this.#mem;
    if (this.#getEventsOnEnter || (Atomics.load(m.sq, m.sqFlags) & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW))) {
      // Task work (DEFER_TASKRUN, COOP_TASKRUN) runs only when the process enters the kernel.
      this.#enter(0, 0, IORING_ENTER_GETEVENTS);
    }
    this.#reap();
    this.#drainBacklog();
    if (this.#unsubmitted > 0) this.#flush();
    if (this.#pending === 0) this.#waker?.disarm();
    this.#armWait();
  }

  /** Batch API: submits every queued SQE with one io_uring_enter (none while an SQPOLL thread is awake). */
  submit(): number {
    this.assertOpen("io_uring_enter");
    const n = this.#submitNow();
    this.#drainBacklog();
    return n;
  }

  /**
   * Batch API: submits and blocks this thread until at least `waitNr`
   * completions are ready, then reaps them. It blocks the event loop: use it
   * only when this thread does nothing else.
   */
  submitAndWait(waitNr: number): number {
    this.assertOpen("io_uring_enter");
    const m = this.#mem;
    Atomics.store(m.sq, m.sqTail, this.#tail);
    const toSubmit = this.#sqpoll ? 0 : this.#unsubmitted;
    let flags = IORING_ENTER_GETEVENTS;
    if (this.#sqpoll && Atomics.load(m.sq, m.sqFlags) & IORING_SQ_NEED_WAKEUP) flags |= IORING_ENTER_SQ_WAKEUP;
    const ready = this.cqReady();
    const r = this.#enter(toSubmit, ready >= waitNr ? 0 : waitNr, flags);
    if (r < 0) throw new KernelError({ errno: -r, syscall: "io_uring_enter", subject: `ring fd ${this.fd}` });
    this.#unsubmitted = this.#sqpoll ? 0 : this.#unsubmitted - r;
    this.#reap();
    return r;
  }

  /**
   * Batch API: reaps the CQ and returns the batch completions since the last
   * call. The Completion objects are reused by the next call: copy what you keep.
   */
  completions(): Completion[] {
    this.assertOpen("io_uring_enter");
    this.#reap();
    const out = this.#batch;
    out.length = this.#batchCount;
    this.#batchCount = 0;
    this.#batch = out.slice();
    return out;
  }

  /**
   * Cancels every op, waits (up to `timeoutMs`) for the kernel to finish with
   * their buffers, rejects what is left with ECANCELED, stops the waker and
   * unmaps the rings. Harmless when called twice. Buffers of ops the kernel
   * still holds after the wait are kept alive for the life of the process.
   */
  close(timeoutMs = 2000): void {
    if (this.#closed) return;
    this.#closing = true;
    this.#backlog.length = 0; // never reached the kernel; rejected below
    if (this.#pending > 0) {
      try {
        this.#placeInternal(IORING_OP_ASYNC_CANCEL, -1, 0, IORING_ASYNC_CANCEL_ANY);
        this.#submitNow();
        this.#waitSync(timeoutMs);
      } catch {
        // The ring is unusable; what is still pending is abandoned below.
      }
    }
    this.#closed = true;
    leaked.unregister(this);
    for (let slot = 0; slot < this.#resolve.length; slot++) {
      const kind = this.#kind[slot];
      if (kind === 0) continue;
      abandoned.add(this.#keep[slot]);
      const reject = this.#reject[slot];
      const err = this.#abortError(this.#opcode[slot], this.#fd[slot], this.#subject[slot], undefined);
      this.#freeSlot(slot);
      reject?.(err);
    }
    teardown(this.#teardown);
  }

  #waitSync(timeoutMs: number): void {
    const deadline = performance.now() + timeoutMs;
    const arg = new Uint8Array(io_uring_getevents_arg.size + __kernel_timespec.size);
    const view = new DataView(arg.buffer);
    const tsOffset = io_uring_getevents_arg.size;
    __kernel_timespec.write(view, tsOffset, "tv_nsec", 10_000_000);
    const address = runtime().addressOf(arg);
    io_uring_getevents_arg.write(view, 0, "ts", address + tsOffset);
    while (this.#pending > 0 && performance.now() < deadline) {
      this.stats.enters++;
      liburing().symbols.io_uring_enter2(
        this.fd,
        this.#sqpoll ? 0 : this.#unsubmitted,
        1,
        IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
        address,
        io_uring_getevents_arg.size,
      );
      this.#reap();
    }
  }

  /** Same as close(). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Same as close(). */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/** IOSQE_* flags from op options. */
export function sqeFlags(options: OpOptions | undefined): number {
  if (!options) return 0;
  let f = 0;
  if (options.link === "soft") f |= IOSQE_IO_LINK;
  else if (options.link === "hard") f |= IOSQE_IO_HARDLINK;
  if (options.drain) f |= IOSQE_IO_DRAIN;
  if (options.async) f |= IOSQE_ASYNC;
  if (options.fixedFile) f |= IOSQE_FIXED_FILE;
  return f;
}

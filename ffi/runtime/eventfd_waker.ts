/**
 * Waiting for an eventfd without blocking the JS thread and without burning
 * CPU, the same way in Bun and Deno.
 *
 * A worker thread (node:worker_threads, in both runtimes) blocks in
 * read(eventfd) through FFI and wakes the main thread with Atomics.notify on a
 * SharedArrayBuffer, which the main thread awaits with Atomics.waitAsync.
 * Measured here: tens of µs median wake-up, and an idle worker parked in
 * Atomics.wait costs no CPU.
 *
 * Each waker owns its eventfd and its worker for the life of the process:
 * release() parks it in a pool for the next ring instead of ending it,
 * because tearing down a worker thread that had made many FFI calls crashed
 * Bun 1.4. Parked workers are unref'ed and never keep the process alive.
 *
 * @module
 */
import { Worker } from "node:worker_threads";
import type { Libc } from "../libc.ts";
import { EFD_CLOEXEC } from "../structs/eventfd.ts";
import { runtime } from "./mod.ts";

const GENERATION = 0;
const ARMED = 1;


const pool: EventfdWaker[] = [];

/** A wake-up source: "call me when the eventfd may have been written". */
export class EventfdWaker {
  /** The eventfd the worker reads; register it with the ring (IORING_REGISTER_EVENTFD). */
  readonly eventfd: number;
  readonly #state = new Int32Array(new SharedArrayBuffer(16));
  readonly #worker: Worker;
  readonly #libc: Libc;
  readonly #one = new BigUint64Array([1n]);
  #inUse = true;

  private constructor(libc: Libc, eventfd: number) {
    this.#libc = libc;
    this.eventfd = eventfd;
    this.#worker = new Worker(new URL("./eventfd_worker.ts", import.meta.url), {
      workerData: { shared: this.#state.buffer, eventfd, libc: libc.opened },
    });
    this.#worker.unref();
  }

  /**
   * A waker from the pool, or a new one (a new eventfd and worker). Returns
   * null when the eventfd can't be made (the caller reads errno).
   */
  static acquire(libc: Libc): EventfdWaker | null {
    const reused = pool.pop();
    if (reused) {
      reused.#inUse = true;
      return reused;
    }
    const efd = libc.symbols.eventfd(0, EFD_CLOEXEC);
    return efd < 0 ? null : new EventfdWaker(libc, efd);
  }

  /**
   * The current wake-up generation. Read it before checking for work, then
   * pass it to wait(): a wake-up between the check and the wait is not lost.
   */
  generation(): number {
    return Atomics.load(this.#state, GENERATION);
  }

  /**
   * Resolves once the worker has read the eventfd after generation `seen`
   * (at once if it already has). Keeps the process alive while pending.
   */
  wait(seen: number): Promise<void> {
    if (!this.#inUse) return Promise.resolve();
    if (Atomics.exchange(this.#state, ARMED, 1) === 0) Atomics.notify(this.#state, ARMED);
    const r = Atomics.waitAsync(this.#state, GENERATION, seen);
    if (!r.async) return Promise.resolve();
    this.#worker.ref();
    return r.value.then(() => {
      this.#worker.unref();
    });
  }

  /** Stops asking for wake-ups; the worker parks after its current read. */
  disarm(): void {
    Atomics.store(this.#state, ARMED, 0);
    this.#worker.unref();
  }

  /**
   * Gives the waker back to the pool: disarms it and kicks the worker out of
   * read() so it parks. Harmless twice. Its eventfd stays open for reuse.
   */
  release(): void {
    if (!this.#inUse) return;
    this.#inUse = false;
    this.disarm();
    this.#libc.symbols.write(this.eventfd, runtime().addressOf(this.#one), 8);
    // Wake anyone still awaiting wait().
    Atomics.add(this.#state, GENERATION, 1);
    Atomics.notify(this.#state, GENERATION);
    pool.push(this);
  }
}

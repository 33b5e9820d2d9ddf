/**
 * The worker half of the eventfd waker: blocks in read(eventfd) while armed
 * and tells the main thread through a SharedArrayBuffer.
 *
 * Protocol (an Int32Array over the shared buffer):
 * - [0] generation: incremented and notified after each read returns;
 * - [1] armed: the main thread sets 1 when it wants a wake-up, 0 to park the worker;
 * - bytes 8 to 15: where read() puts the eventfd's counter.
 *
 * The worker never ends: Bun 1.4 crashed when a worker thread that had made
 * many FFI calls was torn down (by terminate() or by finishing), so wakers are
 * parked and reused instead (see eventfd_waker.ts).
 *
 * @module
 */
import { workerData } from "node:worker_threads";
import { libcSymbols } from "../libc.ts";
import { runtime } from "./mod.ts";

const GENERATION = 0;
const ARMED = 1;

interface Start {
  readonly shared: SharedArrayBuffer;
  readonly eventfd: number;
  readonly libc: string;
}

const { shared, eventfd, libc } = workerData as Start;
const state = new Int32Array(shared);
const lib = runtime().open(libc, { read: libcSymbols.read });
// read() writes the counter into shared memory: a SharedArrayBuffer's store
// never moves, unlike a small typed array's in the JS heap.
const address = runtime().addressOf(new Uint8Array(shared, 8, 8));
for (;;) {
  // Parked in a JS wait, not in read(), whenever nobody is waiting.
  while (Atomics.load(state, ARMED) === 0) Atomics.wait(state, ARMED, 0);
  lib.symbols.read(eventfd, address, 8);
  Atomics.add(state, GENERATION, 1);
  Atomics.notify(state, GENERATION);
}

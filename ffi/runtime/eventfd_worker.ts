/**
 * The worker half of the eventfd waker: blocks in read(eventfd) while armed
 * and tells the main thread through a SharedArrayBuffer.
 *
 * Protocol (an Int32Array over the shared buffer):
 * - [0] generation: incremented and notified after each read returns;
 * - [1] armed: the main thread sets 1 when it wants a wake-up;
 * - [2] stop: set before the main thread writes the eventfd to end the loop.
 *
 * @module
 */
import { workerData } from "node:worker_threads";
import { libcSymbols } from "../libc.ts";
import { runtime } from "./mod.ts";

const GENERATION = 0;
const ARMED = 1;
const STOP = 2;

interface Start {
  readonly shared: SharedArrayBuffer;
  readonly eventfd: number;
  readonly libc: string;
}

const { shared, eventfd, libc } = workerData as Start;
const state = new Int32Array(shared);
const lib = runtime().open(libc, { read: libcSymbols.read });
const counter = new BigUint64Array(1);
const address = runtime().addressOf(counter);
for (;;) {
  // Parked in a JS wait, not in read(): the stop flag reaches it.
  while (Atomics.load(state, ARMED) === 0 && Atomics.load(state, STOP) === 0) {
    Atomics.wait(state, ARMED, 0);
  }
  if (Atomics.load(state, STOP) === 1) break;
  lib.symbols.read(eventfd, address, 8);
  if (Atomics.load(state, STOP) === 1) break;
  Atomics.add(state, GENERATION, 1);
  Atomics.notify(state, GENERATION);
}
lib.close();

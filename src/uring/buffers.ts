/**
 * BufferPool: I/O buffers in memory kernelkit maps itself (mmap, optionally
 * huge pages), never in the JS heap, so the kernel can read and write them
 * without the JS engine moving or freeing them. This is what to read into.
 *
 * @module
 */
import { mapMemory, type Mapping, type PageBacking } from "../memory/mapping.ts";
import { KernelError } from "../errors.ts";
import type { Ring } from "./ring.ts";

/** Options of a BufferPool. */
export interface BufferPoolOptions {
  /** How many buffers. */
  readonly count: number;
  /** Bytes per buffer. */
  readonly size: number;
  /** What backs the pool's memory (see mapMemory); "default" when absent. */
  readonly pages?: PageBacking;
}

/**
 * `count` buffers of `size` bytes in one mapping. acquire() hands out a free
 * buffer, release() takes it back; register() makes them the ring's fixed
 * buffers for readFixed and writeFixed. Close it when done; buffers used after
 * close read zeros and never crash.
 */
export class BufferPool {
  /** Bytes per buffer. */
  readonly size: number;
  /** How many buffers. */
  readonly count: number;
  /** The mapping that holds every buffer. */
  readonly mapping: Mapping;
  readonly #buffers: Uint8Array[];
  readonly #index = new WeakMap<Uint8Array, number>();
  readonly #free: number[];
  readonly #inUse: Uint8Array;

  /** Maps the pool. Throws a KernelError (EINVAL) for a bad count or size, or mmap's error. */
  constructor(options: BufferPoolOptions) {
    const { count, size } = options;
    for (const [name, v] of [["count", count], ["size", size]] as const) {
      if (!Number.isSafeInteger(v) || v <= 0) {
        throw new KernelError({ errno: 22, syscall: "mmap", subject: `buffer pool ${name} ${v}`, hint: `${name} must be a positive integer` });
      }
    }
    this.size = size;
    this.count = count;
    const bytes = count * size;
    const huge = options.pages === "2MB" ? 2 ** 21 : options.pages === "1GB" ? 2 ** 30 : 1;
    this.mapping = mapMemory(Math.ceil(bytes / huge) * huge, { pages: options.pages ?? "default" });
    const all = this.mapping.bytes;
    this.#buffers = Array.from({ length: count }, (_, i) => all.subarray(i * size, (i + 1) * size));
    this.#buffers.forEach((b, i) => this.#index.set(b, i));
    this.#free = Array.from({ length: count }, (_, i) => count - 1 - i);
    this.#inUse = new Uint8Array(count);
  }

  /** Buffer `i` (0 ≤ i < count), whether or not it is acquired. */
  buffer(i: number): Uint8Array {
    const b = this.#buffers[i];
    if (b === undefined) throw new RangeError(`buffer index ${i} is outside 0..${this.count - 1}`);
    return b;
  }

  /** Every buffer, in order. */
  get buffers(): readonly Uint8Array[] {
    return this.#buffers;
  }

  /** Buffers not acquired. */
  get available(): number {
    return this.#free.length;
  }

  /** A free buffer, or undefined when all are in use. */
  acquire(): Uint8Array | undefined {
    const i = this.#free.pop();
    if (i === undefined) return undefined;
    this.#inUse[i] = 1;
    return this.#buffers[i];
  }

  /** Gives a buffer from acquire() back. Releasing twice, or a foreign buffer, throws a RangeError. */
  release(buffer: Uint8Array): void {
    const i = this.#index.get(buffer);
    if (i === undefined) throw new RangeError("the buffer does not belong to this pool");
    if (!this.#inUse[i]) throw new RangeError(`buffer ${i} is not acquired`);
    this.#inUse[i] = 0;
    this.#free.push(i);
  }

  /** Registers every buffer with `ring` (IORING_REGISTER_BUFFERS), for readFixed and writeFixed. */
  register(ring: Ring): void {
    ring.registerBuffers(this.#buffers);
  }

  /** Unmaps the pool. Harmless twice; views read zeros afterwards. */
  close(): void {
    this.mapping.close();
  }

  /** Same as close(). */
  [Symbol.dispose](): void {
    this.close();
  }
}

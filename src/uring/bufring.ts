/**
 * Provided buffers (IORING_REGISTER_PBUF_RING): a ring of buffers the kernel
 * picks from when data arrives, so a thousand idle connections don't each pin
 * a receive buffer. A multishot recv names the group; each completion says
 * which buffer (id) holds its bytes; recycle(id) hands it back.
 *
 * Needs Linux 5.19.
 *
 * @module
 */
import { viewAddress } from "../../ffi/runtime/address.ts";
import {
  io_uring_buf,
  io_uring_buf_reg,
  io_uring_buf_ring,
  IORING_REGISTER_PBUF_RING,
  IORING_UNREGISTER_PBUF_RING,
} from "../../ffi/structs/io_uring.ts";
import { KernelError } from "../errors.ts";
import { mapMemory, type Mapping } from "../memory/mapping.ts";
import { checkNegative, liburing } from "../native.ts";

/** Options of a ProvidedBuffers group. */
export interface ProvidedBuffersOptions {
  /** Buffers in the ring: a power of two up to 32768. */
  readonly count: number;
  /** Bytes per buffer. */
  readonly size: number;
  /** The buffer group id (bgid) recvs name; unique per ring. */
  readonly group: number;
}

/** The ring a group belongs to: its fd, and whether it has been closed. */
export interface RingHandle {
  /** The io_uring fd. */
  readonly fd: number;
  /** True once the ring is closed. */
  readonly closed: boolean;
}

const TAIL = io_uring_buf_ring.offsetof("tail");
const writeAddr = io_uring_buf.writer("addr");
const writeLen = io_uring_buf.writer("len");
const writeBid = io_uring_buf.writer("bid");

/** A registered group of provided buffers on one ring. Close it before the ring. */
export class ProvidedBuffers {
  /** The buffer group id. */
  readonly group: number;
  /** Buffers in the group. */
  readonly count: number;
  /** Bytes per buffer. */
  readonly size: number;
  readonly #ring: RingHandle;
  readonly #entries: Mapping;
  readonly #data: Mapping;
  readonly #view: DataView;
  readonly #tail: Uint16Array;
  readonly #buffers: Uint8Array[];
  #next: number;
  #closed = false;

  /** Maps the ring and the buffers and registers them with `ring` (a Ring). */
  constructor(ring: RingHandle, options: ProvidedBuffersOptions) {
    const ringFd = ring.fd;
    const { count, size, group } = options;
    if (!Number.isInteger(count) || count < 1 || count > 32768 || (count & (count - 1)) !== 0) {
      throw new KernelError({ errno: 22, syscall: "io_uring_register", subject: `IORING_REGISTER_PBUF_RING, ${count} buffers`, hint: "count must be a power of two from 1 to 32768" });
    }
    if (!Number.isInteger(size) || size < 1 || !Number.isInteger(group) || group < 0 || group > 0xffff) {
      throw new KernelError({ errno: 22, syscall: "io_uring_register", subject: `IORING_REGISTER_PBUF_RING, size ${size}, group ${group}`, hint: "size must be a positive integer and group 0 to 65535" });
    }
    this.#ring = ring;
    this.group = group;
    this.count = count;
    this.size = size;
    this.#entries = mapMemory(Math.max(4096, count * io_uring_buf.size));
    this.#data = mapMemory(count * size);
    const bytes = this.#entries.bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#tail = new Uint16Array(bytes.buffer, bytes.byteOffset + TAIL, 1);
    const data = this.#data.bytes;
    this.#buffers = Array.from({ length: count }, (_, i) => data.subarray(i * size, (i + 1) * size));
    const reg = io_uring_buf_reg.alloc();
    const rv = new DataView(reg.buffer);
    io_uring_buf_reg.write(rv, 0, "ring_addr", this.#entries.address);
    io_uring_buf_reg.write(rv, 0, "ring_entries", count);
    io_uring_buf_reg.write(rv, 0, "bgid", group);
    try {
      checkNegative(
        liburing().symbols.io_uring_register(ringFd, IORING_REGISTER_PBUF_RING, viewAddress(reg), 1),
        "io_uring_register",
        { subject: `IORING_REGISTER_PBUF_RING, group ${group}` },
      );
    } catch (e) {
      this.#entries.close();
      this.#data.close();
      throw e;
    }
    this.#next = 0;
    for (let id = 0; id < count; id++) this.#put(id);
    this.#publish();
  }

  #put(id: number): void {
    const at = (this.#next & (this.count - 1)) * io_uring_buf.size;
    writeAddr(this.#view, at, this.#data.address + id * this.size);
    writeLen(this.#view, at, this.size);
    writeBid(this.#view, at, id);
    this.#next = (this.#next + 1) & 0xffff;
  }

  #publish(): void {
    // The kernel reads the tail; the entries must be written before it moves.
    Atomics.store(this.#tail, 0, this.#next);
  }

  /** Buffer `id`'s memory; `length` bytes of it hold a completion's data. */
  buffer(id: number, length = this.size): Uint8Array {
    return this.#buffers[id].subarray(0, length);
  }

  /** Gives buffer `id` back to the kernel once its data has been used. */
  recycle(id: number): void {
    if (this.#closed) return;
    this.#put(id);
    this.#publish();
  }

  /** Unregisters the group and unmaps its memory. Harmless twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const reg = io_uring_buf_reg.alloc();
    io_uring_buf_reg.write(new DataView(reg.buffer), 0, "bgid", this.group);
    // A closed ring took the group with it, and its fd number may now be another ring's.
    if (!this.#ring.closed) {
      liburing().symbols.io_uring_register(this.#ring.fd, IORING_UNREGISTER_PBUF_RING, viewAddress(reg), 1);
    }
    this.#entries.close();
    this.#data.close();
  }

  /** Same as close(). */
  [Symbol.dispose](): void {
    this.close();
  }
}

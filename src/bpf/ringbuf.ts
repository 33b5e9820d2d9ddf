/**
 * RingBuffer: a BPF_MAP_TYPE_RINGBUF map (Linux 5.8) consumed from JS,
 * straight from the memory the kernel writes the records into.
 *
 * The map is mmapped once: the consumer page read-write, the producer page and
 * the data area read-only, the data area twice back to back (the kernel maps
 * it so), so that a record that wraps around the end reads as one run of
 * bytes. Consuming a record is a load of its 8-byte header (busy and discard
 * bits, length), a view of its bytes, and an Atomics.store of the new
 * consumer position: no system call and no FFI call per record, and no copy
 * unless asked for.
 *
 * The read-only pages are read with plain loads, never Atomics.load: Bun's
 * JIT (JavaScriptCore, seen with Bun 1.4.5 on x86-64) compiles Atomics.load
 * into a locked read-modify-write, which faults on read-only memory and kills
 * the process. Ordering comes from Atomics operations on the writable consumer
 * page, which both engines treat as barriers to reordering memory accesses;
 * x86-64 keeps loads in order by itself, and on other architectures each
 * record's header load is followed by a full fence (an Atomics read-modify-write).
 *
 * Waiting for records is an io_uring POLL_ADD on the map's fd (the kernel
 * wakes it when a record is committed to an empty buffer), so an idle reader
 * costs no CPU and needs no thread of its own beyond the ring's waker.
 *
 * The kernel never waits for the reader: a producer that finds the buffer full
 * fails `bpf_ringbuf_reserve`/`output` and the record is lost, without any
 * kernel counter. kernelkit's programs count those failures in a map named
 * `lost`; pass it as `lostCounter` and `lost` reports it.
 *
 * @module
 */
import {
  BPF_MAP_TYPE_ARRAY,
  BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE_RINGBUF,
  BPF_RINGBUF_BUSY_BIT,
  BPF_RINGBUF_DISCARD_BIT,
  BPF_RINGBUF_HDR_SZ,
} from "../../ffi/structs/bpf.ts";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { F_DUPFD_CLOEXEC } from "../../ffi/structs/fcntl.ts";
import { MAP_FIXED, MAP_SHARED, PROT_READ, PROT_WRITE } from "../../ffi/structs/mman.ts";
import { POLLIN } from "../../ffi/structs/poll.ts";
import process from "node:process";
import { KernelError } from "../errors.ts";
import {
  closeRegion,
  mmapChecked,
  pageSize,
  type RegionState,
  releaseRegion,
  reserveRegion,
  trackOwner,
  viewRegion,
} from "../memory/region.ts";
import { check, libbpf, sys } from "../native.ts";
import { Ring } from "../uring/ring.ts";
import type { Codec } from "./codec.ts";
import { checkLibbpf } from "./libbpf_call.ts";
import { mapInfo, possibleCpus } from "./map.ts";

/**
 * How records become values: a {@link Codec} (such as `codec.struct(layout)`
 * for a layout declared with `ffi/layout.ts`), which gets `codec.size` bytes
 * (a shorter record is zero-padded), or a function of the record's bytes.
 */
export type RecordDecoder<T> = Codec<T> | ((bytes: Uint8Array) => T);

/** Options of {@link RingBuffer.open}. */
export interface RingBufferOptions<T> {
  /** Decode each record (default: its bytes, as a Uint8Array). */
  readonly decode?: RecordDecoder<T>;
  /**
   * Give each undecoded record as a copy, not a view. By default a record is
   * a view of the shared memory, valid only until the callback returns (or,
   * iterating, until the next record is asked for): the kernel reuses the
   * space after that. Views are read-only memory: writing into one kills the
   * process (SIGSEGV). Copy what you keep, or pass `copy: true`.
   */
  readonly copy?: boolean;
  /**
   * The map that counts records the producer dropped because the buffer was
   * full: an array or per-CPU array of one u64 (kernelkit's programs call it
   * `lost`). Without it, {@link RingBuffer.lost} is undefined.
   */
  readonly lostCounter?: { readonly fd: number };
  /**
   * Wait for records with POLL_ADD on this ring. Default: a small ring of the
   * RingBuffer's own, made at the first wait and closed with it.
   */
  readonly ring?: Ring;
}

/** Options of {@link RingBuffer.wait}. */
export interface WaitOptions {
  /** Stop waiting when aborted (wait then resolves false). */
  readonly signal?: AbortSignal;
  /** Stop waiting after this many milliseconds (wait then resolves false). */
  readonly timeoutMs?: number;
}

/** Options of {@link RingBuffer.run}. */
export interface RunBatchOptions {
  /** Stop when aborted; run then resolves. */
  readonly signal?: AbortSignal;
  /** At most this many records per batch (default: all that are ready). */
  readonly maxBatch?: number;
}

/** What a RingBuffer has seen. */
export interface RingBufferStats {
  /** Records handed to the caller. */
  readonly delivered: number;
  /** Records the producer discarded (bpf_ringbuf_discard), skipped. */
  readonly discarded: number;
  /** Records the producer dropped for want of room, from the lost counter; undefined without one. */
  readonly lost: number | undefined;
  /** Bytes written by the producer and not consumed yet. */
  readonly pending: number;
}

const BUSY = BPF_RINGBUF_BUSY_BIT;
const DISCARD = BPF_RINGBUF_DISCARD_BIT;
const LENGTH = ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT) >>> 0;
const HEADER = BPF_RINGBUF_HDR_SZ;
const TWO32 = 4294967296;
/** Where loads may pass loads (not x86-64), a record's header load needs a full fence before its data is read. */
const FENCE_EACH_RECORD = process.arch !== "x64";
/** On x86-64 (TSO) the per-record consumer position can be a plain store; see RingBuffer.#drain. */
const PLAIN_PUBLISH = process.arch === "x64";
/** The u32 of the consumer page used as a fence: the kernel reads only the first eight bytes of that page. */
const FENCE_SLOT = 16;

function dupFd(fd: number, what: string): number {
  return check(sys().fcntl(fd, F_DUPFD_CLOEXEC, 0), "fcntl", {
    subject: `F_DUPFD_CLOEXEC of ${what} fd ${fd}`,
    hint: "pass the map of a loaded BpfObject (object.map(name)) or an open BpfMap",
  });
}

/** Reads a one-slot u64 counter map (array or per-CPU array), summing the CPUs. */
function counterReader(fd: number): () => number {
  const info = mapInfo(fd);
  const perCpu = info.type === BPF_MAP_TYPE_PERCPU_ARRAY;
  if ((info.type !== BPF_MAP_TYPE_ARRAY && !perCpu) || info.valueSize !== 8 || info.keySize !== 4) {
    throw new KernelError({
      errno: ERRNO.EINVAL,
      syscall: "bpf_map_lookup_elem",
      message:
        `lost counter map "${info.name}" is a ${info.typeName} with ${info.keySize}-byte keys and ${info.valueSize}-byte values, not an array of u64`,
      hint: "pass the program's counter of failed bpf_ringbuf_reserve/output calls: an (per-CPU) array of one __u64",
    });
  }
  const slots = perCpu ? possibleCpus() : 1;
  const key = new Uint8Array(4);
  const value = new Uint8Array(8 * slots);
  const view = new DataView(value.buffer);
  return () => {
    checkLibbpf(libbpf().symbols.bpf_map_lookup_elem(fd, key, value), "bpf_map_lookup_elem", {
      subject: `lost counter ${info.name}`,
    });
    let n = 0;
    for (let i = 0; i < slots; i++) n += view.getUint32(i * 8, true) + view.getUint32(i * 8 + 4, true) * TWO32;
    return n;
  };
}

/**
 * A BPF ring buffer map, read in this process.
 *
 * Ways to read, all reading the same shared memory:
 * - `consume(fn)`: the records that are ready now, one callback each;
 * - `consumeRaw(fn)`: the same, giving a DataView and an offset: no
 *   allocation per record, the fastest way;
 * - `consumeBatch(fn)`: the ready records as one array;
 * - `wait()`, `run(fn)` and `for await (const record of rb)`: asynchronous,
 *   woken by io_uring POLL_ADD on the map's fd.
 *
 * One reader per map: two RingBuffers (or processes) consuming the same map
 * would take each other's records.
 *
 * It keeps the map alive (its own fd and mapping) until `close()`, even after
 * the BpfObject it came from is closed. A record view kept past close() reads
 * zeros; it never crashes.
 */
export class RingBuffer<T = Uint8Array> implements AsyncIterable<T> {
  /** The map's name. */
  readonly name: string;
  /** The data area's size in bytes (the map's max_entries, a power of two). */
  readonly capacity: number;
  #fd: number;
  readonly #region: RegionState;
  #consumer: Uint32Array;
  #producer: Uint32Array;
  #headers: Uint32Array;
  #bytes: Uint8Array;
  #view: DataView;
  #pos: number;
  #offset: number;
  readonly #make: (offset: number, length: number) => T;
  readonly #lostFd: number;
  readonly #readLost: (() => number) | undefined;
  #ring: Ring | undefined;
  readonly #ownRing: boolean;
  readonly #waits = new Set<AbortController>();
  #closed = false;
  #lostAtClose: number | undefined;
  #delivered = 0;
  #discarded = 0;

  private constructor(fd: number, options: RingBufferOptions<T>) {
    const info = mapInfo(fd);
    if (info.type !== BPF_MAP_TYPE_RINGBUF) {
      throw new KernelError({
        errno: ERRNO.EINVAL,
        syscall: "mmap",
        message: `map "${info.name}" is a ${info.typeName} map, not a ringbuf: RingBuffer reads BPF_MAP_TYPE_RINGBUF maps only`,
        hint: info.typeName === "user_ringbuf"
          ? "a user_ringbuf carries records from user space to BPF, the other way"
          : "declare the map __uint(type, BPF_MAP_TYPE_RINGBUF) with max_entries a power-of-two multiple of the page size; read other maps with BpfMap",
      });
    }
    this.name = info.name;
    this.capacity = info.maxEntries;
    const page = pageSize();
    const size = this.capacity;
    const subject = `ring buffer ${info.name}, ${size} bytes`;
    const region = reserveRegion(2 * page + 2 * size, page, subject);
    try {
      // The consumer page is ours to write; the producer page and the (doubled) data area are the kernel's.
      mmapChecked(sys().mmap(region.address, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0), {
        subject: `${subject}: consumer page`,
      });
      mmapChecked(
        sys().mmap(region.address + page, page + 2 * size, PROT_READ, MAP_SHARED | MAP_FIXED, fd, page),
        { subject: `${subject}: producer page and data`, hint: "a ringbuf's size must be a power-of-two multiple of the page size" },
      );
    } catch (e) {
      releaseRegion(region);
      throw e;
    }
    this.#region = region;
    trackOwner(this, region);
    const buffer = viewRegion(region);
    this.#consumer = new Uint32Array(buffer, 0, FENCE_SLOT + 1);
    this.#producer = new Uint32Array(buffer, page, 2);
    this.#headers = new Uint32Array(buffer, 2 * page, (2 * size) / 4);
    this.#bytes = new Uint8Array(buffer, 2 * page, 2 * size);
    this.#view = new DataView(buffer, 2 * page, 2 * size);
    this.#pos = Atomics.load(this.#consumer, 0) + Atomics.load(this.#consumer, 1) * TWO32;
    this.#offset = this.#pos % size;
    this.#fd = fd;
    this.#make = this.#maker(options);
    if (options.lostCounter) {
      this.#lostFd = dupFd(options.lostCounter.fd, "lost counter map");
      try {
        this.#readLost = counterReader(this.#lostFd);
      } catch (e) {
        sys().close(this.#lostFd);
        closeRegion(region);
        throw e;
      }
    } else {
      this.#lostFd = -1;
    }
    this.#ring = options.ring;
    this.#ownRing = options.ring === undefined;
    fds.register(this, [fd, this.#lostFd], this);
  }

  /**
   * Maps the ring buffer `map` (a BpfMap, or anything with the fd of a
   * BPF_MAP_TYPE_RINGBUF map) for reading. Another type of map is a
   * KernelError EINVAL naming its type.
   */
  static open<T = Uint8Array>(map: { readonly fd: number }, options: RingBufferOptions<T> = {}): RingBuffer<T> {
    const fd = dupFd(map.fd, "ring buffer map");
    try {
      return new RingBuffer<T>(fd, options);
    } catch (e) {
      sys().close(fd);
      throw e;
    }
  }

  #maker(options: RingBufferOptions<T>): (offset: number, length: number) => T {
    const decode = options.decode;
    if (typeof decode === "function") {
      return (o, l) => decode(this.#bytes.subarray(o, o + l));
    }
    if (decode !== undefined) {
      const scratch = new Uint8Array(decode.size);
      return (o, l) => {
        if (l >= decode.size) return decode.decode(this.#bytes.subarray(o, o + decode.size));
        scratch.fill(0);
        scratch.set(this.#bytes.subarray(o, o + l));
        return decode.decode(scratch);
      };
    }
    if (options.copy) return (o, l) => this.#bytes.slice(o, o + l) as T;
    return (o, l) => this.#bytes.subarray(o, o + l) as T;
  }

  #check(what: string): void {
    if (this.#closed) {
      throw new KernelError({
        errno: ERRNO.EBADF,
        syscall: "ringbuf",
        message: `ring buffer "${this.name}" is closed, so ${what}() can't read it`,
      });
    }
  }

  /**
   * The producer position: u64, read as two halves that must agree, each
   * load fenced so that the JIT neither merges nor moves them, and the
   * headers read after it are not read before it.
   */
  #producerPos(): number {
    const p = this.#producer;
    const c = this.#consumer;
    for (;;) {
      Atomics.load(c, FENCE_SLOT);
      const hi = p[1];
      Atomics.load(c, FENCE_SLOT);
      const lo = p[0];
      Atomics.load(c, FENCE_SLOT);
      if (p[1] === hi) {
        Atomics.add(c, FENCE_SLOT, 0);
        return hi * TWO32 + lo;
      }
    }
  }

  /** A record's header (busy bit, discard bit, length), fenced on architectures that reorder loads. */
  #header(offset: number): number {
    const h = this.#headers[offset >>> 2];
    if (FENCE_EACH_RECORD) Atomics.add(this.#consumer, FENCE_SLOT, 0);
    return h;
  }

  /**
   * Gives the kernel the space up to `pos` (an Atomics.store: a release on
   * every architecture). The low half goes first: a reader in between sees a
   * smaller position (less room), never a larger one.
   */
  #publish(pos: number): void {
    const c = this.#consumer;
    Atomics.store(c, 0, pos >>> 0);
    const hi = Math.floor(pos / TWO32);
    if (c[1] !== hi) Atomics.store(c, 1, hi);
  }

  /**
   * Walks the ready records from the consumer position, calling `visit` with
   * the data view and each (non-discarded) record's offset and length, and
   * gives each record's space back after its visit, as libbpf does. A visit
   * that throws has consumed its record: the error propagates, the record is
   * not seen again.
   *
   * This is the hot loop. On x86-64 the per-record position is a plain store:
   * stores are not reordered with the loads before them there, and both JITs
   * keep typed-array accesses to one buffer in program order; the last
   * position is published with Atomics.store. Elsewhere each is an
   * Atomics.store (xchg on x86-64 costs some 20 cycles, a third of a record).
   */
  #drain(max: number, visit: (data: DataView, offset: number, length: number) => void): number {
    this.#check("consume");
    const headers = this.#headers;
    const consumer = this.#consumer;
    const view = this.#view;
    const size = this.capacity;
    let pos = this.#pos;
    let offset = this.#offset;
    let prod = this.#producerPos();
    let n = 0;
    let discarded = 0;
    let step = 0;
    // Positions below this share the high half already published.
    let nextHigh = (Math.floor(pos / TWO32) + 1) * TWO32;
    try {
      while (pos < prod && n < max) {
        const h = headers[offset >>> 2];
        if (FENCE_EACH_RECORD) Atomics.add(consumer, FENCE_SLOT, 0);
        if (h >= BUSY) break; // still being written: records after it wait for it
        const length = h & LENGTH;
        step = (length + HEADER + 7) & ~7;
        if ((h & DISCARD) === 0) {
          n++;
          visit(view, offset + HEADER, length);
        } else discarded++;
        pos += step;
        offset += step;
        if (offset >= size) offset -= size;
        step = 0;
        if (PLAIN_PUBLISH && pos < nextHigh) consumer[0] = pos >>> 0;
        else {
          this.#publish(pos);
          nextHigh = (Math.floor(pos / TWO32) + 1) * TWO32;
        }
        if (pos >= prod) prod = this.#producerPos();
      }
    } finally {
      if (step !== 0) {
        pos += step;
        offset += step;
        if (offset >= size) offset -= size;
      }
      this.#publish(pos);
      this.#pos = pos;
      this.#offset = offset;
      this.#delivered += n;
      this.#discarded += discarded;
    }
    return n;
  }

  /**
   * Calls `onRecord` with each record that is ready now, up to `max`, and
   * returns how many. Never waits. Each record is a view (see
   * {@link RingBufferOptions.copy}) unless decoded.
   */
  consume(onRecord: (record: T) => void, max: number = Infinity): number {
    const make = this.#make;
    return this.#drain(max, (_, o, l) => onRecord(make(o, l)));
  }

  /**
   * Like {@link consume}, but gives each record as a DataView over the data
   * area with the record's offset and length: nothing is allocated per
   * record. The view is read-only shared memory; the record's bytes are
   * valid until the callback returns.
   */
  consumeRaw(onRecord: (data: DataView, offset: number, length: number) => void, max: number = Infinity): number {
    return this.#drain(max, onRecord);
  }

  /**
   * Calls `onBatch` once with the records that are ready now (up to `max`),
   * as one array, and returns how many (0 without a call when none is
   * ready). Views stay valid until `onBatch` returns; their space goes back
   * to the kernel after that.
   */
  consumeBatch(onBatch: (records: T[]) => void, max: number = Infinity): number {
    const batch = this.#collect(max);
    if (batch.records.length === 0) {
      this.#commit(batch);
      return 0;
    }
    try {
      onBatch(batch.records);
    } finally {
      this.#commit(batch);
    }
    return batch.records.length;
  }

  /** Reads ready records without giving their space back; see {@link commit}. */
  #collect(max: number): { records: T[]; pos: number; offset: number; discarded: number } {
    this.#check("consumeBatch");
    const headers = this.#headers;
    const size = this.capacity;
    const records: T[] = [];
    let pos = this.#pos;
    let offset = this.#offset;
    let discarded = 0;
    let prod = this.#producerPos();
    while (pos < prod && records.length < max) {
      const h = this.#header(offset);
      if (h >= BUSY) break;
      const length = h & LENGTH;
      if ((h & DISCARD) === 0) records.push(this.#make(offset + HEADER, length));
      else discarded++;
      const step = (length + HEADER + 7) & ~7;
      pos += step;
      offset += step;
      if (offset >= size) offset -= size;
      if (pos >= prod) prod = this.#producerPos();
    }
    return { records, pos, offset, discarded };
  }

  #commit(batch: { records: T[]; pos: number; offset: number; discarded: number }): void {
    if (this.#closed) return;
    this.#pos = batch.pos;
    this.#offset = batch.offset;
    this.#delivered += batch.records.length;
    this.#discarded += batch.discarded;
    this.#publish(batch.pos);
  }

  /** Bytes the producer has written (or reserved) and this reader has not consumed. */
  get pending(): number {
    this.#check("pending");
    return this.#producerPos() - this.#pos;
  }

  /**
   * Records the producer dropped because the buffer was full, read from the
   * lost counter (one bpf() call); undefined without `lostCounter`. After
   * close, the count read when closing.
   */
  get lost(): number | undefined {
    return this.#closed ? this.#lostAtClose : this.#readLost?.();
  }

  /** Records delivered, discarded and lost so far, and the bytes pending (0 after close). */
  get stats(): RingBufferStats {
    return {
      delivered: this.#delivered,
      discarded: this.#discarded,
      lost: this.lost,
      pending: this.#closed ? 0 : this.pending,
    };
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Resolves true when records are ready (at once if some already are), or
   * false when the wait was aborted, timed out, or the buffer was closed.
   * The wait is an io_uring POLL_ADD on the map's fd: no CPU while idle.
   * A pending wait keeps the process alive.
   */
  async wait(options: WaitOptions = {}): Promise<boolean> {
    this.#check("wait");
    if (this.#producerPos() > this.#pos) return true;
    if (options.signal?.aborted) return false;
    this.#ring ??= new Ring({ entries: 4 });
    const ring = this.#ring;
    const controller = new AbortController();
    const abort = () => controller.abort();
    options.signal?.addEventListener("abort", abort, { once: true });
    const timer = options.timeoutMs !== undefined ? setTimeout(abort, options.timeoutMs) : undefined;
    this.#waits.add(controller);
    try {
      await ring.pollAdd(this.#fd, POLLIN, { signal: controller.signal });
      return !this.#closed;
    } catch (e) {
      if (controller.signal.aborted || this.#closed) return false;
      throw e;
    } finally {
      this.#waits.delete(controller);
      if (timer !== undefined) clearTimeout(timer);
      options.signal?.removeEventListener("abort", abort);
    }
  }

  /**
   * Waits and consumes until the buffer is closed or `signal` aborts, calling
   * `onBatch` with each batch of ready records (awaiting it when it returns a
   * promise: the batch's views stay valid until then). Resolves with the
   * number of records delivered.
   */
  async run(onBatch: (records: T[]) => void | Promise<void>, options: RunBatchOptions = {}): Promise<number> {
    let total = 0;
    const max = options.maxBatch ?? Infinity;
    while (!this.#closed && !options.signal?.aborted) {
      const batch = this.#collect(max);
      if (batch.records.length > 0) {
        try {
          await onBatch(batch.records);
        } finally {
          this.#commit(batch);
        }
        total += batch.records.length;
        continue;
      }
      this.#commit(batch);
      if (!(await this.wait({ signal: options.signal }))) break;
    }
    return total;
  }

  /**
   * The records, one at a time, waiting when none is ready, until the buffer
   * is closed or `signal` aborts. A record's view is valid until the next one
   * is asked for. Slower per record than {@link run}: a promise each.
   */
  async *records(options: { readonly signal?: AbortSignal } = {}): AsyncGenerator<T, void, undefined> {
    let held = 0; // the space of the record last yielded, given back when the next is asked for
    try {
      for (;;) {
        if (this.#closed || options.signal?.aborted) return;
        if (held !== 0) {
          this.#advance(held);
          held = 0;
        }
        const next = this.#peek();
        if (next >= 0) {
          const length = this.#header(this.#offset) & LENGTH;
          held = (length + HEADER + 7) & ~7;
          this.#delivered++;
          yield this.#make(this.#offset + HEADER, length);
          continue;
        }
        if (!(await this.wait({ signal: options.signal }))) return;
      }
    } finally {
      if (held !== 0 && !this.#closed) this.#advance(held);
    }
  }

  /** Same as {@link records}. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.records();
  }

  /** Skips discarded records; returns the offset of the next ready record, or -1. */
  #peek(): number {
    const prod = this.#producerPos();
    while (this.#pos < prod) {
      const h = this.#header(this.#offset);
      if (h >= BUSY) return -1;
      if ((h & DISCARD) === 0) return this.#offset;
      this.#discarded++;
      this.#advance(((h & LENGTH) + HEADER + 7) & ~7);
    }
    return -1;
  }

  #advance(step: number): void {
    this.#pos += step;
    this.#offset += step;
    if (this.#offset >= this.capacity) this.#offset -= this.capacity;
    this.#publish(this.#pos);
  }

  /**
   * Stops reading: pending waits resolve false, iterations end, the memory is
   * given back (views kept past this read zeros) and the fds are closed. The
   * map itself lives on while its BpfObject or a pin holds it. Closing twice
   * is harmless; reading after close throws EBADF.
   */
  close(): void {
    if (this.#closed) return;
    try {
      this.#lostAtClose = this.#readLost?.();
    } catch {
      // The counter's map is gone: keep undefined.
    }
    this.#closed = true;
    for (const w of this.#waits) w.abort();
    if (this.#ownRing) this.#ring?.close();
    this.#ring = undefined;
    fds.unregister(this);
    closeRegion(this.#region);
    sys().close(this.#fd);
    if (this.#lostFd >= 0) sys().close(this.#lostFd);
    this.#fd = -1;
    // Drop our views: the range is released when the last view is collected.
    this.#consumer = new Uint32Array(FENCE_SLOT + 1);
    this.#producer = new Uint32Array(2);
    this.#headers = new Uint32Array(0);
    this.#bytes = new Uint8Array(0);
    this.#view = new DataView(new ArrayBuffer(0));
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

// The mapping has its own backstop in memory/region.ts; this one closes the fds.
const fds = new FinalizationRegistry<number[]>((list) => {
  for (const fd of list) {
    try {
      if (fd >= 0) sys().close(fd);
    } catch {
      // Best effort: the backstop must never throw.
    }
  }
});

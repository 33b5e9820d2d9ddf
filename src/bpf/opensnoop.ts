/**
 * OpenSnoop: every openat(2) on the host (or of one process, or one command
 * name), as events read from a BPF ring buffer: `bpf/opensnoop.bpf.c` at the
 * syscalls sys_enter_openat and sys_exit_openat tracepoints.
 * `kernelkit trace opens` is built on it.
 *
 * Files opened through io_uring (IORING_OP_OPENAT) make no system call and are
 * not seen.
 *
 * @module
 */
import { array, i32, type Struct, struct, u32, u64, u8 } from "../../ffi/layout.ts";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { errnoName, KernelError } from "../errors.ts";
import type { Ring } from "../uring/ring.ts";
import { codec } from "./codec.ts";
import type { BpfLink } from "./link.ts";
import { BpfObject } from "./object.ts";
import { RingBuffer } from "./ringbuf.ts";
import { shippedObjectPath } from "./shipped.ts";

/** The longest command name the kernel keeps (TASK_COMM_LEN - 1). */
export const COMM_MAX = 15;

/** `struct kk_open_config` of opensnoop.bpf.c: which opens to report. */
export const kk_open_config: Struct = struct("kk_open_config", [
  ["pid", u32],
  ["match_comm", u32],
  ["comm", array(u8, 16)],
]);

/** `struct kk_open_event` of opensnoop.bpf.c: one open, sent with only as much of `path` as is set. */
export const kk_open_event: Struct = struct("kk_open_event", [
  ["ts_ns", u64],
  ["pid", u32],
  ["tid", u32],
  ["uid", u32],
  ["ret", i32],
  ["dirfd", i32],
  ["flags", i32],
  ["mode", u32],
  ["comm", array(u8, 16)],
  ["path", array(u8, 256)],
]);

/** One openat(2), as OpenSnoop reports it. */
export interface OpenEvent {
  /** When the call returned, in nanoseconds of CLOCK_MONOTONIC (bpf_ktime_get_ns). */
  readonly timeNs: number;
  /** The process (tgid). */
  readonly pid: number;
  /** The thread. */
  readonly tid: number;
  /** The real uid. */
  readonly uid: number;
  /** The command name (at most 15 characters). */
  readonly comm: string;
  /** The path as passed (relative to `dirfd` unless absolute; at most 255 bytes). */
  readonly path: string;
  /** The open flags (O_*). */
  readonly flags: number;
  /** The mode, for O_CREAT. */
  readonly mode: number;
  /** The directory fd the path is relative to (-100 is AT_FDCWD). */
  readonly dirfd: number;
  /** The new fd, or -1 when the call failed. */
  readonly fd: number;
  /** The error name ("ENOENT") when the call failed. */
  readonly error: string | undefined;
}

/** Options of {@link OpenSnoop.start}. */
export interface OpenSnoopOptions {
  /** Only opens by this process (tgid). */
  readonly pid?: number;
  /** Only opens by tasks with this command name (the first 15 characters count). */
  readonly comm?: string;
  /** Another build of opensnoop.bpf.o (a path or its bytes); default: the one shipped in bpf/. */
  readonly object?: string | Uint8Array;
  /** Wait for events on this ring (see RingBufferOptions.ring). */
  readonly ring?: Ring;
}

const off = (f: string) => kk_open_event.offsetof(f);
const O_TS = off("ts_ns");
const O_PID = off("pid");
const O_TID = off("tid");
const O_UID = off("uid");
const O_RET = off("ret");
const O_DIRFD = off("dirfd");
const O_FLAGS = off("flags");
const O_MODE = off("mode");
const O_COMM = off("comm");
const O_PATH = off("path");
const utf8 = new TextDecoder();

function cstr(bytes: Uint8Array, from: number, to: number): string {
  let end = from;
  while (end < to && bytes[end] !== 0) end++;
  return utf8.decode(bytes.subarray(from, end));
}

/** Decodes a `struct kk_open_event` record (of any length from the head on). */
export function decodeOpenEvent(bytes: Uint8Array): OpenEvent {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ret = v.getInt32(O_RET, true);
  return {
    timeNs: v.getUint32(O_TS, true) + v.getUint32(O_TS + 4, true) * 4294967296,
    pid: v.getUint32(O_PID, true),
    tid: v.getUint32(O_TID, true),
    uid: v.getUint32(O_UID, true),
    comm: cstr(bytes, O_COMM, O_COMM + 16),
    path: bytes.length > O_PATH ? cstr(bytes, O_PATH, bytes.length) : "",
    flags: v.getInt32(O_FLAGS, true),
    mode: v.getUint32(O_MODE, true),
    dirfd: v.getInt32(O_DIRFD, true),
    fd: ret >= 0 ? ret : -1,
    error: ret < 0 ? errnoName(-ret) : undefined,
  };
}

/**
 * Open events from the kernel, from `start()` until `close()`.
 *
 * Read them with `for await (const e of snoop)`, `snoop.run(batch => ...)` or
 * `snoop.events` (the RingBuffer). Events that found the ring buffer full
 * (a reader too slow for a burst) are dropped by the kernel and counted in
 * `lost`.
 *
 * It holds two BPF links: close it (or `using`) to detach; the kernel also
 * detaches them when the process exits. Keep a reference while tracing.
 */
export class OpenSnoop implements AsyncIterable<OpenEvent> {
  /** The ring buffer the events arrive through, decoded. */
  readonly events: RingBuffer<OpenEvent>;
  readonly #object: BpfObject;
  readonly #links: BpfLink[];
  #closed = false;

  private constructor(object: BpfObject, links: BpfLink[], events: RingBuffer<OpenEvent>) {
    this.#object = object;
    this.#links = links;
    this.events = events;
  }

  /**
   * Loads opensnoop.bpf.o, sets the filters, maps the ring buffer and attaches
   * to the openat tracepoints (mounting tracefs at /sys/kernel/tracing when it
   * isn't). Needs root (CAP_BPF, CAP_PERFMON, and CAP_SYS_ADMIN to mount tracefs).
   */
  static start(options: OpenSnoopOptions = {}): OpenSnoop {
    const { pid, comm } = options;
    if (pid !== undefined && (!Number.isInteger(pid) || pid <= 0 || pid > 0x3fffffff)) {
      throw new KernelError({
        errno: ERRNO.EINVAL,
        syscall: "kernelkit trace",
        message: `pid must be a process id (a positive integer), got ${pid}`,
      });
    }
    const commBytes = new TextEncoder().encode(comm ?? "");
    if (comm !== undefined && (commBytes.length === 0 || commBytes.includes(0))) {
      throw new KernelError({
        errno: ERRNO.EINVAL,
        syscall: "kernelkit trace",
        message: `comm must be a command name such as "bash", got ${JSON.stringify(comm)}`,
      });
    }
    const object = BpfObject.open(options.object ?? shippedObjectPath("opensnoop.bpf.o"), { name: "kk_opensnoop" })
      .load();
    const links: BpfLink[] = [];
    let events: RingBuffer<OpenEvent> | undefined;
    try {
      const settings = object.map("settings", { key: codec.u32 });
      const value = new Uint8Array(kk_open_config.size);
      const v = new DataView(value.buffer);
      v.setUint32(kk_open_config.offsetof("pid"), pid ?? 0, true);
      v.setUint32(kk_open_config.offsetof("match_comm"), comm === undefined ? 0 : 1, true);
      // The kernel keeps 15 bytes of a command name; compare what it keeps.
      value.set(commBytes.subarray(0, COMM_MAX), kk_open_config.offsetof("comm"));
      settings.set(0, value);
      events = RingBuffer.open(object.map("events"), {
        decode: decodeOpenEvent,
        lostCounter: object.map("lost"),
        ring: options.ring,
      });
      // The exit first: an open caught at entry is then always caught at exit too.
      links.push(object.program("kk_openat_exit").attachTracepoint("syscalls", "sys_exit_openat"));
      links.push(object.program("kk_openat_enter").attachTracepoint("syscalls", "sys_enter_openat"));
      return new OpenSnoop(object, links, events);
    } catch (e) {
      for (const l of links) l.close();
      events?.close();
      object.close();
      throw e;
    }
  }

  /** Events dropped because the ring buffer was full (the kernel never waits for the reader); still readable after close. */
  get lost(): number {
    return this.events.lost ?? 0;
  }

  /** The ids of the BPF links holding the programs (for `bpftool link show`). */
  get linkIds(): number[] {
    return this.#links.map((l) => l.id ?? 0);
  }

  /** Waits for events and hands them over in batches until closed or aborted; see {@link RingBuffer.run}. */
  run(onBatch: (events: OpenEvent[]) => void | Promise<void>, options: { readonly signal?: AbortSignal } = {}): Promise<number> {
    return this.events.run(onBatch, options);
  }

  /** The events one at a time, until closed. */
  [Symbol.asyncIterator](): AsyncIterator<OpenEvent> {
    return this.events.records();
  }

  /** Detaches both programs, stops reading (iterations end) and unloads. Closing twice is harmless. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const l of this.#links) l.close();
    this.events.close();
    this.#object.close();
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * SysCount: every system call counted by process and syscall number, in the
 * kernel, by `bpf/syscount.bpf.c` at the raw_syscalls sys_enter tracepoint
 * (attached as tp_btf: no tracefs, no kprobes). `kernelkit trace syscalls`
 * is built on it.
 *
 * Counting costs each traced system call one BPF program run (a per-CPU hash
 * update, no atomics); nothing crosses to user space until the counts are read.
 *
 * @module
 */
import { type Struct, struct, u32 } from "../../ffi/layout.ts";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { KernelError } from "../errors.ts";
import { syscallName } from "../system/syscalls.ts";
import { codec, type StructValue, sum } from "./codec.ts";
import type { BpfLink } from "./link.ts";
import { type BpfMap, perCpuValue } from "./map.ts";
import { BpfObject } from "./object.ts";
import { shippedObjectPath } from "./shipped.ts";

/** `struct kk_syscount_key` of syscount.bpf.c: the process and the syscall number. */
export const kk_syscount_key: Struct = struct("kk_syscount_key", [["pid", u32], ["nr", u32]]);
/** `struct kk_syscount_config` of syscount.bpf.c: the process to count (0: all). */
export const kk_syscount_config: Struct = struct("kk_syscount_config", [["pid", u32], ["pad", u32]]);

/** Options of {@link SysCount.start}. */
export interface SysCountOptions {
  /** Count only this process (its tgid, the pid `ps` shows); default: every process. */
  readonly pid?: number;
  /** Another build of syscount.bpf.o (a path or its bytes); default: the one shipped in bpf/. */
  readonly object?: string | Uint8Array;
}

/** One counter: how many times process `pid` made system call `nr`. */
export interface SyscallCount {
  /** The process (tgid). */
  readonly pid: number;
  /** The syscall number. */
  readonly nr: number;
  /** Its name, from the table generated from the kernel headers (`syscall_<nr>` when unknown). */
  readonly name: string;
  /** Calls since counting started. */
  readonly count: number;
}

/**
 * System calls counted in the kernel, per process and syscall, from
 * `start()` until `close()`.
 *
 * It holds a BPF link: close it (or `using`) to detach; the kernel also
 * detaches it when the process exits. Keep a reference while counting: a
 * collected SysCount's link is closed by its finalizer.
 */
export class SysCount {
  /** The process counted, or undefined for every process. */
  readonly pid: number | undefined;
  readonly #object: BpfObject;
  readonly #link: BpfLink;
  readonly #counts: BpfMap<StructValue, number[]>;
  readonly #lost: BpfMap<number, number[]>;
  #closed = false;

  private constructor(object: BpfObject, link: BpfLink, pid: number | undefined) {
    this.#object = object;
    this.#link = link;
    this.pid = pid;
    this.#counts = object.map("counts", { key: codec.struct(kk_syscount_key), value: perCpuValue(codec.u64) });
    this.#lost = object.map("lost", { key: codec.u32, value: perCpuValue(codec.u64) });
  }

  /** Loads syscount.bpf.o, sets the pid filter and attaches it to sys_enter. Needs CAP_BPF and CAP_PERFMON (or root). */
  static start(options: SysCountOptions = {}): SysCount {
    const pid = options.pid;
    if (pid !== undefined && (!Number.isInteger(pid) || pid <= 0 || pid > 0x3fffffff)) {
      throw new KernelError({
        errno: ERRNO.EINVAL,
        syscall: "kernelkit trace",
        message: `pid must be a process id (a positive integer), got ${pid}`,
      });
    }
    const object = BpfObject.open(options.object ?? shippedObjectPath("syscount.bpf.o"), { name: "kk_syscount" }).load();
    try {
      object.map("settings", { key: codec.u32, value: codec.struct(kk_syscount_config) }).set(0, { pid: pid ?? 0 });
      const link = object.program("kk_syscount").attachTpBtf();
      return new SysCount(object, link, pid);
    } catch (e) {
      object.close();
      throw e;
    }
  }

  #check(): void {
    if (this.#closed) {
      throw new KernelError({ errno: ERRNO.EBADF, syscall: "bpf_map", message: "the SysCount is closed" });
    }
  }

  /** Every counter: calls per process and syscall since start, summed over the CPUs (one batch read of the map). */
  counts(): SyscallCount[] {
    this.#check();
    return this.#counts.readAll(1024).map(([k, v]) => ({ pid: k.pid, nr: k.nr, name: syscallName(k.nr), count: sum(v) }));
  }

  /** Calls per syscall over all the processes counted, most frequent first. */
  bySyscall(): Array<{ readonly nr: number; readonly name: string; readonly count: number }> {
    const totals = new Map<number, number>();
    for (const c of this.counts()) totals.set(c.nr, (totals.get(c.nr) ?? 0) + c.count);
    return [...totals].map(([nr, count]) => ({ nr, name: syscallName(nr), count })).sort((a, b) => b.count - a.count);
  }

  /** Calls that went uncounted because the counter table was full (16384 process and syscall pairs). */
  get lost(): number {
    this.#check();
    return sum(this.#lost.get(0) ?? [0]);
  }

  /**
   * Deletes the counters of processes that have exited (their counts no
   * longer change), so that a long trace of a busy host doesn't fill the
   * table. Returns how many counters were removed.
   */
  prune(alive: (pid: number) => boolean): number {
    this.#check();
    const dead = this.#counts.readAll(1024).map(([k]) => k).filter((k) => !alive(k.pid));
    return dead.length ? this.#counts.deleteAll(dead) : 0;
  }

  /** Detaches and unloads. Closing twice is harmless. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#link.close();
    this.#object.close();
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * BpfProgram: one loaded program of a BpfObject. It attaches (XDP, through
 * `xdp.ts`; tracepoints, fentry/fexit, kprobes and uprobes, through
 * `attach.ts`) and runs on test input with BPF_PROG_RUN.
 *
 * @module
 */
import { runtime } from "../../ffi/runtime/mod.ts";
import { bpf_prog_info } from "../../ffi/structs/bpf.ts";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { bpf_test_run_opts } from "../../ffi/structs/libbpf.ts";
import { KernelError } from "../errors.ts";
import { libbpf } from "../native.ts";
import { checkLibbpf, decodeCString, stableBytes } from "./libbpf_call.ts";
import type { Lifetime } from "./map.ts";
import {
  attachKprobe,
  attachRawTracepoint,
  attachTpBtf,
  attachTracepoint,
  attachTrampoline,
  attachUprobe,
  type KprobeOptions,
  type TracingProgram,
  type UprobeOptions,
} from "./attach.ts";
import type { BpfLink } from "./link.ts";
import { progTypeName } from "./names.ts";
import { attachXdp, type XdpAttachOptions, type XdpLink } from "./xdp.ts";

/** What the kernel says about a loaded program (BPF_OBJ_GET_INFO_BY_FD). */
export interface ProgramInfo {
  /** The program's id, unique on this host while it is loaded. */
  readonly id: number;
  /** The kernel's copy of its name (at most 15 characters). */
  readonly name: string;
  /** BPF_PROG_TYPE_* value. */
  readonly type: number;
  /** The type's name: "xdp", "socket_filter" ... */
  readonly typeName: string;
}

/** Reads BPF_OBJ_GET_INFO_BY_FD of a program fd. */
export function programInfo(fd: number): ProgramInfo {
  const info = bpf_prog_info.alloc();
  const len = new Uint32Array([info.length]);
  checkLibbpf(libbpf().symbols.bpf_obj_get_info_by_fd(fd, info, len), "bpf_obj_get_info_by_fd", {
    subject: `program fd ${fd}`,
  });
  const v = new DataView(info.buffer);
  const at = bpf_prog_info.offsetof("name");
  const type = bpf_prog_info.read(v, 0, "type");
  return {
    id: bpf_prog_info.read(v, 0, "id"),
    name: decodeCString(info.subarray(at, at + 16)),
    type,
    typeName: progTypeName(type),
  };
}

/** Options of {@link BpfProgram.run}. */
export interface RunOptions {
  /** How many times to run the program on the input (default 1). */
  readonly repeat?: number;
  /** Room for the output packet (default: the input's length plus 256). */
  readonly outputSize?: number;
}

/** The outcome of {@link BpfProgram.run}. */
export interface RunResult {
  /** The program's return value (for XDP: XDP_DROP 1, XDP_PASS 2, ...). */
  readonly retval: number;
  /** Average run time per repetition, in nanoseconds, as the kernel measured it. */
  readonly durationNs: number;
  /** The packet after the program ran (it may have changed it). */
  readonly output: Uint8Array;
}

/** What BpfObject tells a program about itself from libbpf: what tracing attaches need. */
export interface ProgramHandle {
  /** libbpf's `struct bpf_program *`, valid until the object is closed. */
  readonly handle: number;
  /** BPF_PROG_TYPE_* as libbpf set it from the section. */
  readonly type: number;
  /** The expected attach type (BPF_TRACE_FENTRY ...). */
  readonly attachType: number;
  /** The kernel function or tracepoint a fentry/fexit/tp_btf program was loaded against. */
  readonly loadTarget: string | undefined;
}

/**
 * A program of a loaded BpfObject. Its fd belongs to the object: it is
 * usable until the object is closed.
 */
export class BpfProgram {
  /** The program's function name in the object file (not cut to 15 characters). */
  readonly name: string;
  /** Its ELF section ("xdp", "tc", "fentry/__do_sys_getppid", ...). */
  readonly section: string;
  /** For fentry, fexit and tp_btf programs: the kernel function or tracepoint it was loaded against. */
  readonly attachTarget: string | undefined;
  readonly #fd: number;
  readonly #lifetime: Lifetime;
  readonly #native: ProgramHandle | undefined;
  #info: ProgramInfo | undefined;

  /** Created by BpfObject; not for direct use. */
  constructor(name: string, section: string, fd: number, lifetime: Lifetime, native?: ProgramHandle) {
    this.name = name;
    this.section = section;
    this.#fd = fd;
    this.#lifetime = lifetime;
    this.#native = native;
    this.attachTarget = native?.loadTarget;
  }

  /** The program as the attach functions see it; throws EBADF once the object is closed. */
  #tracing(method: string): TracingProgram {
    const fd = this.fd;
    const native = this.#native;
    if (!native) {
      throw new KernelError({
        errno: ERRNO.EINVAL,
        syscall: method,
        message: `program "${this.name}" did not come from a BpfObject, so ${method}() can't attach it`,
        hint: "get the program with object.program(name) from a loaded BpfObject",
      });
    }
    return { name: this.name, fd, ...native };
  }

  /**
   * Attaches this `SEC("tracepoint")` program to tracepoint `category:name`
   * (`"syscalls", "sys_enter_openat"`), through a perf event. Tracepoint ids
   * come from tracefs: it is mounted at /sys/kernel/tracing when missing (as
   * root). A category or name that doesn't exist is ENOENT naming it.
   *
   * The returned link detaches on `close()` and when the process exits.
   */
  attachTracepoint(category: string, name: string): BpfLink {
    return attachTracepoint(this.#tracing("attachTracepoint"), category, name);
  }

  /**
   * Attaches this `SEC("raw_tp")` program to raw tracepoint `name` (the
   * tracepoint's name without its category: `"sys_enter"`). A
   * `SEC("tp_btf/<name>")` program is attached as with {@link attachTpBtf}.
   * Needs no tracefs. The link detaches on `close()` and at process exit.
   */
  attachRawTracepoint(name: string): BpfLink {
    return attachRawTracepoint(this.#tracing("attachRawTracepoint"), name);
  }

  /**
   * Attaches this `SEC("tp_btf/<name>")` program, a BTF-typed raw
   * tracepoint. `name`, if given, must be the one in its section (the kernel
   * verified the program against it). Needs no tracefs. The link detaches on
   * `close()` and at process exit.
   */
  attachTpBtf(name?: string): BpfLink {
    return attachTpBtf(this.#tracing("attachTpBtf"), name);
  }

  /**
   * Attaches this `SEC("fentry/<function>")` program to the kernel function's
   * entry, through a BPF trampoline (kernel 5.5 with BTF; no kprobes needed).
   * `func`, if given, must be the function it was loaded for: retarget with
   * `object.setAttachTarget()` before `load()`. A function the kernel doesn't
   * have is ENOENT, naming close ones. The link detaches on `close()` and at
   * process exit.
   */
  attachFentry(func?: string): BpfLink {
    return attachTrampoline(this.#tracing("attachFentry"), "fentry", func);
  }

  /** Like {@link attachFentry}, for a `SEC("fexit/<function>")` program, which runs when the function returns and sees its return value. */
  attachFexit(func?: string): BpfLink {
    return attachTrampoline(this.#tracing("attachFexit"), "fexit", func);
  }

  /**
   * Attaches this `SEC("kprobe")` program to kernel function `func` (its
   * returns with `retprobe`). A kernel built without CONFIG_KPROBES gives a
   * KernelError ENOTSUP that says so: use {@link attachFentry} there. The link
   * detaches on `close()` and at process exit.
   */
  attachKprobe(func: string, options: KprobeOptions = {}): BpfLink {
    return attachKprobe(this.#tracing("attachKprobe"), func, options);
  }

  /**
   * Attaches this `SEC("uprobe")` program to function `symbol` of `binary` (a
   * path, or a library this process has loaded such as `"libc.so.6"`), in
   * every process or only `pid`; `retprobe` probes its returns. The link
   * detaches on `close()` and at process exit.
   */
  attachUprobe(binary: string, symbol: string, options: UprobeOptions = {}): BpfLink {
    return attachUprobe(this.#tracing("attachUprobe"), binary, symbol, options);
  }

  /** The program's fd; throws EBADF once its object is closed. */
  get fd(): number {
    if (this.#lifetime.closed) {
      throw new KernelError({
        errno: ERRNO.EBADF,
        syscall: "bpf_prog",
        message: `program "${this.name}" is closed (its BpfObject was closed)`,
      });
    }
    return this.#fd;
  }

  /** What the kernel says about the program: id, name and type. */
  get info(): ProgramInfo {
    this.#info ??= programInfo(this.fd);
    return this.#info;
  }

  /** The kernel's id of the program. */
  get id(): number {
    return this.info.id;
  }

  /**
   * Attaches this XDP program to an interface with a bpf_link (see
   * {@link attachXdp}). The link detaches when closed, or when the process
   * exits, unless `persist` pinned it.
   */
  attachXdp(ifname: string, options: XdpAttachOptions = {}): XdpLink {
    return attachXdp(this, ifname, options);
  }

  /**
   * Runs the program on `input` with BPF_PROG_RUN (bpf_prog_test_run_opts),
   * without attaching it: maps are updated as in real use. For XDP, `input`
   * is a frame starting at the Ethernet header.
   */
  run(input: Uint8Array, options: RunOptions = {}): RunResult {
    const repeat = options.repeat ?? 1;
    const outputSize = options.outputSize ?? input.length + 256;
    // Both are u32 fields: -1 would wrap to 2^32 - 1 runs (minutes of a blocked thread), NaN to 0.
    for (const [what, value] of [["repeat", repeat], ["outputSize", outputSize]] as const) {
      if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
        throw new KernelError({
          errno: ERRNO.EINVAL,
          syscall: "bpf_prog_test_run_opts",
          message:
            `bpf_prog_test_run_opts(${this.name}): ${what} ${value} is not an integer from 0 to 2^32 - 1 (EINVAL)`,
          hint: what === "repeat"
            ? "give how many times to run the program, such as 1"
            : "give the room for the output packet in bytes",
        });
      }
    }
    const rt = runtime();
    const data = stableBytes(Math.max(input.length, 1));
    data.set(input);
    const out = stableBytes(outputSize);
    const opts = bpf_test_run_opts.alloc();
    const v = new DataView(opts.buffer);
    const w = (f: string, x: number) => bpf_test_run_opts.write(v, 0, f, x);
    w("sz", opts.length);
    w("data_in", rt.addressOf(data));
    w("data_size_in", input.length);
    w("data_out", rt.addressOf(out));
    w("data_size_out", out.length);
    w("repeat", repeat);
    // The kernel stops a run with EINTR when a signal is pending (the runtimes get
    // some of their own); the fuzzer saw it about once in 500 runs. A test run can
    // be started again (repeats done before the signal may have counted in maps).
    let ret = libbpf().symbols.bpf_prog_test_run_opts(this.fd, opts);
    for (let tries = 0; ret === -ERRNO.EINTR && tries < 16; tries++) {
      w("data_size_out", out.length);
      ret = libbpf().symbols.bpf_prog_test_run_opts(this.fd, opts);
    }
    checkLibbpf(ret, "bpf_prog_test_run_opts", { subject: this.name });
    const r = (f: string) => bpf_test_run_opts.read(v, 0, f);
    return {
      retval: r("retval"),
      durationNs: r("duration"),
      output: out.slice(0, Math.min(r("data_size_out"), out.length)),
    };
  }
}

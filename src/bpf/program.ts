/**
 * BpfProgram: one loaded program of a BpfObject. It attaches (XDP, through
 * `xdp.ts`) and runs on test input with BPF_PROG_RUN.
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

/**
 * A program of a loaded BpfObject. Its fd belongs to the object: it is
 * usable until the object is closed.
 */
export class BpfProgram {
  /** The program's function name in the object file (not cut to 15 characters). */
  readonly name: string;
  /** Its ELF section ("xdp", "tc", ...). */
  readonly section: string;
  readonly #fd: number;
  readonly #lifetime: Lifetime;
  #info: ProgramInfo | undefined;

  /** Created by BpfObject; not for direct use. */
  constructor(name: string, section: string, fd: number, lifetime: Lifetime) {
    this.name = name;
    this.section = section;
    this.#fd = fd;
    this.#lifetime = lifetime;
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
    const rt = runtime();
    const data = stableBytes(Math.max(input.length, 1));
    data.set(input);
    const out = stableBytes(options.outputSize ?? input.length + 256);
    const opts = bpf_test_run_opts.alloc();
    const v = new DataView(opts.buffer);
    const w = (f: string, x: number) => bpf_test_run_opts.write(v, 0, f, x);
    w("sz", opts.length);
    w("data_in", rt.addressOf(data));
    w("data_size_in", input.length);
    w("data_out", rt.addressOf(out));
    w("data_size_out", out.length);
    w("repeat", options.repeat ?? 1);
    checkLibbpf(libbpf().symbols.bpf_prog_test_run_opts(this.fd, opts), "bpf_prog_test_run_opts", {
      subject: this.name,
    });
    const r = (f: string) => bpf_test_run_opts.read(v, 0, f);
    return {
      retval: r("retval"),
      durationNs: r("duration"),
      output: out.slice(0, Math.min(r("data_size_out"), out.length)),
    };
  }
}

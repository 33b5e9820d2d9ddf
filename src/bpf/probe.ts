/**
 * Asking the kernel whether this process may load BPF programs: load the
 * smallest valid program (r0 = 0; exit) and close it; and whether it loads
 * BPF trampoline (fentry) programs.
 *
 * @module
 */
import {
  BPF_ALU64,
  BPF_EXIT,
  BPF_JMP,
  BPF_K,
  BPF_MOV,
  BPF_PROG_TYPE_SOCKET_FILTER,
  BPF_PROG_TYPE_TRACING,
  BPF_PROG_TYPE_XDP,
  BPF_TRACE_FENTRY,
} from "../../ffi/structs/bpf.ts";
import { BTF_KIND_FUNC } from "../../ffi/structs/btf.ts";
import { ERRNO } from "../../ffi/structs/errno.ts";
import { bpf_prog_load_opts } from "../../ffi/structs/libbpf.ts";
import { errnoName } from "../errors.ts";
import { checkNegative, cString, libbpf, sys } from "../native.ts";
import { privileges } from "../system/capabilities.ts";
import { readKernelFile } from "../system/procfs.ts";

/** The two instructions `r0 = 0; exit`, 8 bytes each. */
function returnZero(): Uint8Array {
  const insns = new Uint8Array(16);
  insns[0] = BPF_ALU64 | BPF_MOV | BPF_K; // mov64 r0, 0: dst_reg 0, imm 0
  insns[8] = BPF_JMP | BPF_EXIT;
  return insns;
}

/** Which program type {@link loadTrivialProgram} loads. */
export type TrivialProgramType = "socket_filter" | "xdp";

/**
 * Loads `r0 = 0; exit` as a socket filter (or XDP program) through
 * bpf_prog_load, then closes it. Throws a KernelError (bpf_prog_load, with
 * the errno) when the kernel refuses.
 */
export function loadTrivialProgram(type: TrivialProgramType = "socket_filter"): void {
  const progType = type === "xdp" ? BPF_PROG_TYPE_XDP : BPF_PROG_TYPE_SOCKET_FILTER;
  const fd = checkNegative(
    libbpf().symbols.bpf_prog_load(progType, cString("kk_probe"), cString("GPL"), returnZero(), 2, null),
    "bpf_prog_load",
    { subject: `${type} r0=0; exit` },
  );
  sys().close(fd);
}

let trampolineVerdict: string | null | undefined;

/**
 * Null when this kernel loads BPF trampoline programs (fentry, fexit), else
 * why not. It loads `r0 = 0; exit` as a fentry program on a system call's
 * body and closes it (nothing is attached). The answer is cached.
 *
 * Trampolines need BTF, a JIT and ftrace with direct calls; a host may also
 * refuse them by policy while it allows other tracing programs: then the
 * load fails with EPERM even with CAP_BPF and CAP_PERFMON.
 */
export function trampolinesMissing(): string | null {
  if (trampolineVerdict !== undefined) return trampolineVerdict;
  const lib = libbpf().symbols;
  const btf = lib.btf__load_vmlinux_btf();
  if (btf === 0) return (trampolineVerdict = "the kernel has no BTF (/sys/kernel/btf/vmlinux), which fentry needs");
  let id = -1;
  try {
    for (const f of ["__do_sys_getppid", "__do_sys_getpid", "do_sys_openat2", "vfs_read"]) {
      id = lib.btf__find_by_name_kind(btf, cString(f), BTF_KIND_FUNC);
      if (id > 0) break;
    }
  } finally {
    lib.btf__free(btf);
  }
  if (id <= 0) return (trampolineVerdict = "found no kernel function to probe fentry with");
  const opts = bpf_prog_load_opts.alloc();
  const v = new DataView(opts.buffer);
  bpf_prog_load_opts.write(v, 0, "sz", opts.length);
  bpf_prog_load_opts.write(v, 0, "expected_attach_type", BPF_TRACE_FENTRY);
  bpf_prog_load_opts.write(v, 0, "attach_btf_id", id);
  const fd = lib.bpf_prog_load(BPF_PROG_TYPE_TRACING, cString("kk_probe"), cString("GPL"), returnZero(), 2, opts);
  if (fd >= 0) {
    sys().close(fd);
    return (trampolineVerdict = null);
  }
  const err = -fd;
  trampolineVerdict = err === ERRNO.EPERM || err === ERRNO.EACCES
    ? `the kernel refuses BPF trampoline programs (loading a fentry program: ${errnoName(err)})${
      privileges().held.CAP_PERFMON
        ? `, although this process has CAP_BPF and CAP_PERFMON: the kernel or a host policy forbids them${lockdownClue()}`
        : ": they need CAP_BPF and CAP_PERFMON"
    }`
    : `the kernel can't load a fentry program (${errnoName(err)}): it needs BTF, a BPF JIT and ftrace with direct calls (CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS)`;
  return trampolineVerdict;
}

/**
 * The kernel lockdown mode, as a clue for a refusal that privileges don't
 * explain: " (kernel lockdown: integrity)". Empty when lockdown is off or
 * securityfs, where /sys/kernel/security/lockdown lives, isn't mounted.
 */
function lockdownClue(): string {
  const text = readKernelFile("/sys/kernel/security/lockdown");
  const mode = text && /\[(\w+)\]/.exec(text)?.[1];
  return mode && mode !== "none" ? ` (kernel lockdown: ${mode})` : "";
}

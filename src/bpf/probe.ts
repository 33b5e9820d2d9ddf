/**
 * Asking the kernel whether this process may load BPF programs: load the
 * smallest valid program (r0 = 0; exit) and close it.
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
  BPF_PROG_TYPE_XDP,
} from "../../ffi/structs/bpf.ts";
import { checkNegative, cString, libbpf, sys } from "../native.ts";

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

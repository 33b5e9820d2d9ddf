/**
 * `<linux/bpf.h>` (with `<linux/bpf_common.h>`): the eBPF instruction set,
 * program, map, attach and link types, map and load flags, XDP return codes,
 * and the info structs of BPF_OBJ_GET_INFO_BY_FD, in header order.
 *
 * Values are those of the installed UAPI header (Linux 6.1 on Debian 12).
 * The bpf() syscall itself goes through libbpf's wrappers, so union bpf_attr
 * is not declared here. The helper ids (`BPF_FUNC_map_lookup_elem`, ...) are
 * mixed-case names the layout test can't check; they are not declared yet.
 *
 * C bitfields have no offsetof, so the DSL leaves them out. Where a bitfield
 * sits between members (bpf_insn's registers, bpf_prog_info.gpl_compatible),
 * the natural alignment of the next member reproduces the C layout, and the
 * doc comment says which byte holds the bits.
 *
 * @module
 */
import { array, i16, i32, type Struct, struct, u32, u64, u8, union } from "../layout.ts";

/** The headers the layout test includes for this file. */
export const HEADERS: readonly string[] = ["linux/bpf.h"];

/** Instruction class: load into a register, legacy and 64-bit immediate forms (BPF_LD | BPF_IMM | BPF_DW). */
export const BPF_LD = 0x00;
/** Instruction class: load from memory into a register. */
export const BPF_LDX = 0x01;
/** Instruction class: store an immediate to memory. */
export const BPF_ST = 0x02;
/** Instruction class: store a register to memory (and atomics). */
export const BPF_STX = 0x03;
/** Instruction class: 32-bit arithmetic. */
export const BPF_ALU = 0x04;
/** Instruction class: 64-bit compare-and-jump, call and exit. */
export const BPF_JMP = 0x05;
/** Instruction class: classic BPF return (eBPF reuses 0x06 as BPF_JMP32). */
export const BPF_RET = 0x06;
/** Instruction class: classic BPF misc (eBPF reuses 0x07 as BPF_ALU64). */
export const BPF_MISC = 0x07;

/** Size: 32-bit word. */
export const BPF_W = 0x00;
/** Size: 16-bit half word. */
export const BPF_H = 0x08;
/** Size: byte. */
export const BPF_B = 0x10;

/** Mode: immediate (with BPF_DW, the two-slot 64-bit load). */
export const BPF_IMM = 0x00;
/** Mode: legacy packet access at an absolute offset. */
export const BPF_ABS = 0x20;
/** Mode: legacy packet access at an indirect offset. */
export const BPF_IND = 0x40;
/** Mode: memory at register + off. */
export const BPF_MEM = 0x60;
/** Mode: classic BPF packet length. */
export const BPF_LEN = 0x80;
/** Mode: classic BPF IP header length helper. */
export const BPF_MSH = 0xa0;

/** ALU op: dst += src. */
export const BPF_ADD = 0x00;
/** ALU op: dst -= src. */
export const BPF_SUB = 0x10;
/** ALU op: dst *= src. */
export const BPF_MUL = 0x20;
/** ALU op: dst /= src (unsigned; division by zero gives 0). */
export const BPF_DIV = 0x30;
/** ALU op: dst |= src. */
export const BPF_OR = 0x40;
/** ALU op: dst &= src. */
export const BPF_AND = 0x50;
/** ALU op: dst <<= src. */
export const BPF_LSH = 0x60;
/** ALU op: dst >>= src (logical). */
export const BPF_RSH = 0x70;
/** ALU op: dst = -dst. */
export const BPF_NEG = 0x80;
/** ALU op: dst %= src (unsigned). */
export const BPF_MOD = 0x90;
/** ALU op: dst ^= src. */
export const BPF_XOR = 0xa0;

/** Jump op: always (pc += off). */
export const BPF_JA = 0x00;
/** Jump op: if dst == src. */
export const BPF_JEQ = 0x10;
/** Jump op: if dst > src (unsigned). */
export const BPF_JGT = 0x20;
/** Jump op: if dst >= src (unsigned). */
export const BPF_JGE = 0x30;
/** Jump op: if dst & src. */
export const BPF_JSET = 0x40;

/** Source: the immediate (imm). */
export const BPF_K = 0x00;
/** Source: the register src_reg. */
export const BPF_X = 0x08;

/** Instruction limit of classic BPF and of unprivileged eBPF (privileged loads allow 1M). */
export const BPF_MAXINSNS = 4096;

/** Instruction class: 32-bit compare-and-jump. */
export const BPF_JMP32 = 0x06;
/** Instruction class: 64-bit arithmetic. */
export const BPF_ALU64 = 0x07;

/** Size: 64-bit double word. */
export const BPF_DW = 0x18;
/** Mode: atomic memory op; the op is in imm. */
export const BPF_ATOMIC = 0xc0;
/** Mode: legacy name of BPF_ATOMIC (atomic add). */
export const BPF_XADD = 0xc0;

/** ALU op: dst = src. */
export const BPF_MOV = 0xb0;
/** ALU op: dst >>= src (arithmetic, sign-extending). */
export const BPF_ARSH = 0xc0;

/** ALU op: byte swap; imm is the width (16, 32, 64). */
export const BPF_END = 0xd0;
/** BPF_END source bit: convert to little-endian. */
export const BPF_TO_LE = 0x00;
/** BPF_END source bit: convert to big-endian. */
export const BPF_TO_BE = 0x08;
/** BPF_END: same as BPF_TO_LE. */
export const BPF_FROM_LE = 0x00;
/** BPF_END: same as BPF_TO_BE. */
export const BPF_FROM_BE = 0x08;

/** Jump op: if dst != src. */
export const BPF_JNE = 0x50;
/** Jump op: if dst < src (unsigned). */
export const BPF_JLT = 0xa0;
/** Jump op: if dst <= src (unsigned). */
export const BPF_JLE = 0xb0;
/** Jump op: if dst > src (signed). */
export const BPF_JSGT = 0x60;
/** Jump op: if dst >= src (signed). */
export const BPF_JSGE = 0x70;
/** Jump op: if dst < src (signed). */
export const BPF_JSLT = 0xc0;
/** Jump op: if dst <= src (signed). */
export const BPF_JSLE = 0xd0;
/** Jump op: call helper imm (or a BPF function, with src_reg BPF_PSEUDO_CALL). */
export const BPF_CALL = 0x80;
/** Jump op: return r0. */
export const BPF_EXIT = 0x90;

/** Atomic modifier: also return the old value in src_reg. */
export const BPF_FETCH = 0x01;
/** Atomic op: exchange. */
export const BPF_XCHG = 0xe0 | 0x01;
/** Atomic op: compare r0 with memory and write src_reg if equal. */
export const BPF_CMPXCHG = 0xf0 | 0x01;

/** Register: return value of calls and of the program. */
export const BPF_REG_0 = 0;
/** Register: first argument; holds the context on entry. */
export const BPF_REG_1 = 1;
/** Register: second argument. */
export const BPF_REG_2 = 2;
/** Register: third argument. */
export const BPF_REG_3 = 3;
/** Register: fourth argument. */
export const BPF_REG_4 = 4;
/** Register: fifth argument. */
export const BPF_REG_5 = 5;
/** Register: callee-saved. */
export const BPF_REG_6 = 6;
/** Register: callee-saved. */
export const BPF_REG_7 = 7;
/** Register: callee-saved. */
export const BPF_REG_8 = 8;
/** Register: callee-saved. */
export const BPF_REG_9 = 9;
/** Register: read-only frame pointer (512-byte stack below it). */
export const BPF_REG_10 = 10;
/** Number of registers. */
export const MAX_BPF_REG = 11;

/**
 * struct bpf_insn: one eBPF instruction (8 bytes). Byte 1 holds two bitfields
 * the DSL leaves out: dst_reg in the low nibble and src_reg in the high nibble
 * (little-endian), so write `dst | (src << 4)` there.
 */
export const bpf_insn: Struct = struct("bpf_insn", [
  ["code", u8],
  ["off", i16],
  ["imm", i32],
]);

/** struct bpf_lpm_trie_key: an LPM trie key, prefix length then address bytes (deprecated name). */
export const bpf_lpm_trie_key: Struct = struct("bpf_lpm_trie_key", [
  ["prefixlen", u32],
  ["data", array(u8, 0)],
]);

/** struct bpf_lpm_trie_key_hdr: the header of an LPM trie key. */
export const bpf_lpm_trie_key_hdr: Struct = struct("bpf_lpm_trie_key_hdr", [
  ["prefixlen", u32],
]);

/** struct bpf_lpm_trie_key_u8: an LPM trie key with a trailing byte array. */
export const bpf_lpm_trie_key_u8: Struct = struct("bpf_lpm_trie_key_u8", [
  ["", union("", [["hdr", bpf_lpm_trie_key_hdr], ["prefixlen", u32]])],
  ["data", array(u8, 0)],
]);

/** enum bpf_map_type: unspecified (invalid). */
export const BPF_MAP_TYPE_UNSPEC = 0;
/** Map type: hash table. */
export const BPF_MAP_TYPE_HASH = 1;
/** Map type: array indexed by u32, preallocated and zeroed. */
export const BPF_MAP_TYPE_ARRAY = 2;
/** Map type: program fds for tail calls. */
export const BPF_MAP_TYPE_PROG_ARRAY = 3;
/** Map type: per-CPU perf ring buffers. */
export const BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4;
/** Map type: hash table with a value per possible CPU. */
export const BPF_MAP_TYPE_PERCPU_HASH = 5;
/** Map type: array with a value per possible CPU. */
export const BPF_MAP_TYPE_PERCPU_ARRAY = 6;
/** Map type: stack traces for bpf_get_stackid. */
export const BPF_MAP_TYPE_STACK_TRACE = 7;
/** Map type: cgroup fds. */
export const BPF_MAP_TYPE_CGROUP_ARRAY = 8;
/** Map type: hash table with LRU eviction. */
export const BPF_MAP_TYPE_LRU_HASH = 9;
/** Map type: per-CPU hash table with LRU eviction. */
export const BPF_MAP_TYPE_LRU_PERCPU_HASH = 10;
/** Map type: longest-prefix-match trie (needs BPF_F_NO_PREALLOC). */
export const BPF_MAP_TYPE_LPM_TRIE = 11;
/** Map type: array of inner map fds. */
export const BPF_MAP_TYPE_ARRAY_OF_MAPS = 12;
/** Map type: hash of inner map fds. */
export const BPF_MAP_TYPE_HASH_OF_MAPS = 13;
/** Map type: net devices for XDP redirect, by index. */
export const BPF_MAP_TYPE_DEVMAP = 14;
/** Map type: sockets for sk_msg/sk_skb redirect, by index. */
export const BPF_MAP_TYPE_SOCKMAP = 15;
/** Map type: CPUs for XDP redirect. */
export const BPF_MAP_TYPE_CPUMAP = 16;
/** Map type: AF_XDP sockets for XDP redirect. */
export const BPF_MAP_TYPE_XSKMAP = 17;
/** Map type: sockets for redirect, by key. */
export const BPF_MAP_TYPE_SOCKHASH = 18;
/** Map type: per-cgroup storage (legacy). */
export const BPF_MAP_TYPE_CGROUP_STORAGE = 19;
/** Map type: sockets for SO_REUSEPORT selection. */
export const BPF_MAP_TYPE_REUSEPORT_SOCKARRAY = 20;
/** Map type: per-CPU per-cgroup storage (legacy). */
export const BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE = 21;
/** Map type: FIFO queue (no keys). */
export const BPF_MAP_TYPE_QUEUE = 22;
/** Map type: LIFO stack (no keys). */
export const BPF_MAP_TYPE_STACK = 23;
/** Map type: per-socket local storage. */
export const BPF_MAP_TYPE_SK_STORAGE = 24;
/** Map type: net devices for XDP redirect, by key. */
export const BPF_MAP_TYPE_DEVMAP_HASH = 25;
/** Map type: a struct_ops implementation (e.g. TCP congestion control). */
export const BPF_MAP_TYPE_STRUCT_OPS = 26;
/** Map type: multi-producer ring buffer shared by all CPUs, mmapped by user space (Linux 5.8). */
export const BPF_MAP_TYPE_RINGBUF = 27;
/** Map type: per-inode local storage (BPF LSM). */
export const BPF_MAP_TYPE_INODE_STORAGE = 28;
/** Map type: per-task local storage. */
export const BPF_MAP_TYPE_TASK_STORAGE = 29;
/** Map type: Bloom filter (Linux 5.16). */
export const BPF_MAP_TYPE_BLOOM_FILTER = 30;
/** Map type: ring buffer written by user space, drained by BPF (Linux 6.1). */
export const BPF_MAP_TYPE_USER_RINGBUF = 31;

/** enum bpf_prog_type: unspecified (invalid). */
export const BPF_PROG_TYPE_UNSPEC = 0;
/** Program type: socket filter (SO_ATTACH_BPF). */
export const BPF_PROG_TYPE_SOCKET_FILTER = 1;
/** Program type: kprobe/uprobe. */
export const BPF_PROG_TYPE_KPROBE = 2;
/** Program type: tc classifier. */
export const BPF_PROG_TYPE_SCHED_CLS = 3;
/** Program type: tc action. */
export const BPF_PROG_TYPE_SCHED_ACT = 4;
/** Program type: tracepoint. */
export const BPF_PROG_TYPE_TRACEPOINT = 5;
/** Program type: XDP, run by the driver (or generically) before an skb exists. */
export const BPF_PROG_TYPE_XDP = 6;
/** Program type: perf event sampling. */
export const BPF_PROG_TYPE_PERF_EVENT = 7;
/** Program type: cgroup ingress/egress skb filter. */
export const BPF_PROG_TYPE_CGROUP_SKB = 8;
/** Program type: cgroup socket create/release hooks. */
export const BPF_PROG_TYPE_CGROUP_SOCK = 9;
/** Program type: lightweight tunnel input. */
export const BPF_PROG_TYPE_LWT_IN = 10;
/** Program type: lightweight tunnel output. */
export const BPF_PROG_TYPE_LWT_OUT = 11;
/** Program type: lightweight tunnel transmit. */
export const BPF_PROG_TYPE_LWT_XMIT = 12;
/** Program type: TCP socket operations callbacks. */
export const BPF_PROG_TYPE_SOCK_OPS = 13;
/** Program type: sockmap stream parser/verdict. */
export const BPF_PROG_TYPE_SK_SKB = 14;
/** Program type: cgroup device access control. */
export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
/** Program type: sockmap sendmsg verdict. */
export const BPF_PROG_TYPE_SK_MSG = 16;
/** Program type: raw tracepoint (untyped arguments). */
export const BPF_PROG_TYPE_RAW_TRACEPOINT = 17;
/** Program type: cgroup bind/connect/sendmsg address hooks. */
export const BPF_PROG_TYPE_CGROUP_SOCK_ADDR = 18;
/** Program type: seg6local LWT. */
export const BPF_PROG_TYPE_LWT_SEG6LOCAL = 19;
/** Program type: infrared decoding. */
export const BPF_PROG_TYPE_LIRC_MODE2 = 20;
/** Program type: SO_REUSEPORT socket selection. */
export const BPF_PROG_TYPE_SK_REUSEPORT = 21;
/** Program type: flow dissector. */
export const BPF_PROG_TYPE_FLOW_DISSECTOR = 22;
/** Program type: cgroup sysctl access. */
export const BPF_PROG_TYPE_CGROUP_SYSCTL = 23;
/** Program type: raw tracepoint that may write its arguments. */
export const BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE = 24;
/** Program type: cgroup getsockopt/setsockopt. */
export const BPF_PROG_TYPE_CGROUP_SOCKOPT = 25;
/** Program type: BTF-typed tracing: fentry, fexit, fmod_ret, tp_btf, iter. */
export const BPF_PROG_TYPE_TRACING = 26;
/** Program type: struct_ops member implementation. */
export const BPF_PROG_TYPE_STRUCT_OPS = 27;
/** Program type: replaces a function of another BPF program (freplace). */
export const BPF_PROG_TYPE_EXT = 28;
/** Program type: BPF LSM hook. */
export const BPF_PROG_TYPE_LSM = 29;
/** Program type: socket lookup for incoming packets. */
export const BPF_PROG_TYPE_SK_LOOKUP = 30;
/** Program type: runs bpf() syscalls itself (light skeletons). */
export const BPF_PROG_TYPE_SYSCALL = 31;

/** enum bpf_attach_type: cgroup skb ingress. */
export const BPF_CGROUP_INET_INGRESS = 0;
/** Attach type: cgroup skb egress. */
export const BPF_CGROUP_INET_EGRESS = 1;
/** Attach type: cgroup socket creation. */
export const BPF_CGROUP_INET_SOCK_CREATE = 2;
/** Attach type: cgroup sock_ops. */
export const BPF_CGROUP_SOCK_OPS = 3;
/** Attach type: sockmap stream parser. */
export const BPF_SK_SKB_STREAM_PARSER = 4;
/** Attach type: sockmap stream verdict. */
export const BPF_SK_SKB_STREAM_VERDICT = 5;
/** Attach type: cgroup device access. */
export const BPF_CGROUP_DEVICE = 6;
/** Attach type: sockmap msg verdict. */
export const BPF_SK_MSG_VERDICT = 7;
/** Attach type: cgroup IPv4 bind. */
export const BPF_CGROUP_INET4_BIND = 8;
/** Attach type: cgroup IPv6 bind. */
export const BPF_CGROUP_INET6_BIND = 9;
/** Attach type: cgroup IPv4 connect. */
export const BPF_CGROUP_INET4_CONNECT = 10;
/** Attach type: cgroup IPv6 connect. */
export const BPF_CGROUP_INET6_CONNECT = 11;
/** Attach type: cgroup IPv4 post-bind. */
export const BPF_CGROUP_INET4_POST_BIND = 12;
/** Attach type: cgroup IPv6 post-bind. */
export const BPF_CGROUP_INET6_POST_BIND = 13;
/** Attach type: cgroup UDPv4 sendmsg. */
export const BPF_CGROUP_UDP4_SENDMSG = 14;
/** Attach type: cgroup UDPv6 sendmsg. */
export const BPF_CGROUP_UDP6_SENDMSG = 15;
/** Attach type: infrared decoder. */
export const BPF_LIRC_MODE2 = 16;
/** Attach type: flow dissector (per netns). */
export const BPF_FLOW_DISSECTOR = 17;
/** Attach type: cgroup sysctl. */
export const BPF_CGROUP_SYSCTL = 18;
/** Attach type: cgroup UDPv4 recvmsg. */
export const BPF_CGROUP_UDP4_RECVMSG = 19;
/** Attach type: cgroup UDPv6 recvmsg. */
export const BPF_CGROUP_UDP6_RECVMSG = 20;
/** Attach type: cgroup getsockopt. */
export const BPF_CGROUP_GETSOCKOPT = 21;
/** Attach type: cgroup setsockopt. */
export const BPF_CGROUP_SETSOCKOPT = 22;
/** Attach type: BTF-typed raw tracepoint (tp_btf). */
export const BPF_TRACE_RAW_TP = 23;
/** Attach type: fentry, on function entry (needs BTF and ftrace direct calls). */
export const BPF_TRACE_FENTRY = 24;
/** Attach type: fexit, on function return. */
export const BPF_TRACE_FEXIT = 25;
/** Attach type: fmod_ret, may override a function's return value. */
export const BPF_MODIFY_RETURN = 26;
/** Attach type: BPF LSM hook. */
export const BPF_LSM_MAC = 27;
/** Attach type: BPF iterator. */
export const BPF_TRACE_ITER = 28;
/** Attach type: cgroup IPv4 getpeername. */
export const BPF_CGROUP_INET4_GETPEERNAME = 29;
/** Attach type: cgroup IPv6 getpeername. */
export const BPF_CGROUP_INET6_GETPEERNAME = 30;
/** Attach type: cgroup IPv4 getsockname. */
export const BPF_CGROUP_INET4_GETSOCKNAME = 31;
/** Attach type: cgroup IPv6 getsockname. */
export const BPF_CGROUP_INET6_GETSOCKNAME = 32;
/** Attach type: XDP program run on a devmap entry. */
export const BPF_XDP_DEVMAP = 33;
/** Attach type: cgroup socket release. */
export const BPF_CGROUP_INET_SOCK_RELEASE = 34;
/** Attach type: XDP program run on a cpumap entry. */
export const BPF_XDP_CPUMAP = 35;
/** Attach type: socket lookup (per netns). */
export const BPF_SK_LOOKUP = 36;
/** Attach type: XDP on a net device, through a bpf_link (Linux 5.9). */
export const BPF_XDP = 37;
/** Attach type: sockmap skb verdict. */
export const BPF_SK_SKB_VERDICT = 38;
/** Attach type: SO_REUSEPORT selection. */
export const BPF_SK_REUSEPORT_SELECT = 39;
/** Attach type: SO_REUSEPORT selection or migration. */
export const BPF_SK_REUSEPORT_SELECT_OR_MIGRATE = 40;
/** Attach type: perf event (kprobe, uprobe, tracepoint) through a bpf_link. */
export const BPF_PERF_EVENT = 41;
/** Attach type: multi-kprobe (needs CONFIG_FPROBE). */
export const BPF_TRACE_KPROBE_MULTI = 42;
/** Attach type: BPF LSM hook per cgroup. */
export const BPF_LSM_CGROUP = 43;

/** enum bpf_link_type: unspecified. */
export const BPF_LINK_TYPE_UNSPEC = 0;
/** Link type: raw tracepoint. */
export const BPF_LINK_TYPE_RAW_TRACEPOINT = 1;
/** Link type: fentry/fexit/fmod_ret/LSM/freplace. */
export const BPF_LINK_TYPE_TRACING = 2;
/** Link type: cgroup. */
export const BPF_LINK_TYPE_CGROUP = 3;
/** Link type: iterator. */
export const BPF_LINK_TYPE_ITER = 4;
/** Link type: network namespace (flow dissector, sk_lookup). */
export const BPF_LINK_TYPE_NETNS = 5;
/** Link type: XDP on a net device; detaches when the last fd or pin is gone. */
export const BPF_LINK_TYPE_XDP = 6;
/** Link type: perf event. */
export const BPF_LINK_TYPE_PERF_EVENT = 7;
/** Link type: multi-kprobe. */
export const BPF_LINK_TYPE_KPROBE_MULTI = 8;
/** Link type: struct_ops. */
export const BPF_LINK_TYPE_STRUCT_OPS = 9;

/** BPF_PROG_ATTACH flags (cgroup): a sub-cgroup program overrides this one. */
export const BPF_F_ALLOW_OVERRIDE = 1 << 0;
/** BPF_PROG_ATTACH flags (cgroup): programs of sub-cgroups run as well. */
export const BPF_F_ALLOW_MULTI = 1 << 1;
/** BPF_PROG_ATTACH flags (cgroup): replace the program given by replace_bpf_fd. */
export const BPF_F_REPLACE = 1 << 2;

/** BPF_PROG_LOAD flags: the verifier enforces strict alignment. */
export const BPF_F_STRICT_ALIGNMENT = 1 << 0;
/** BPF_PROG_LOAD flags: the verifier ignores alignment (testing). */
export const BPF_F_ANY_ALIGNMENT = 1 << 1;
/** BPF_PROG_LOAD flags: randomize the upper 32 bits (verifier testing). */
export const BPF_F_TEST_RND_HI32 = 1 << 2;
/** BPF_PROG_LOAD flags: verifier-internal testing. */
export const BPF_F_TEST_STATE_FREQ = 1 << 3;
/** BPF_PROG_LOAD flags: the program may sleep (fentry/fexit/LSM/iter on sleepable hooks). */
export const BPF_F_SLEEPABLE = 1 << 4;
/** BPF_PROG_LOAD flags: the XDP program understands multi-buffer frames (Linux 5.18). */
export const BPF_F_XDP_HAS_FRAGS = 1 << 5;

/** BPF_LINK_CREATE kprobe_multi flags: attach as kretprobes. */
export const BPF_F_KPROBE_MULTI_RETURN = 1 << 0;

/** ld_imm64 src_reg: imm is a map fd; the verifier turns it into the map's address. */
export const BPF_PSEUDO_MAP_FD = 1;
/** ld_imm64 src_reg: imm is an index into fd_array. */
export const BPF_PSEUDO_MAP_IDX = 5;
/** ld_imm64 src_reg: the address of a map value (map fd in imm, offset in the next imm). */
export const BPF_PSEUDO_MAP_VALUE = 2;
/** ld_imm64 src_reg: like MAP_VALUE, with a map index. */
export const BPF_PSEUDO_MAP_IDX_VALUE = 6;
/** ld_imm64 src_reg: imm is a BTF id of a kernel variable. */
export const BPF_PSEUDO_BTF_ID = 3;
/** ld_imm64 src_reg: imm is the relative address of a BPF function. */
export const BPF_PSEUDO_FUNC = 4;
/** call src_reg: a BPF-to-BPF call; imm is the relative offset. */
export const BPF_PSEUDO_CALL = 1;
/** call src_reg: a kfunc call; imm is its BTF id. */
export const BPF_PSEUDO_KFUNC_CALL = 2;

/** map update flags: create or update. */
export const BPF_ANY = 0;
/** map update flags: create only; EEXIST if the key exists. */
export const BPF_NOEXIST = 1;
/** map update flags: update only; ENOENT if the key doesn't exist. */
export const BPF_EXIST = 2;
/** map lookup/update flags: take the value's bpf_spin_lock. */
export const BPF_F_LOCK = 4;

/** map_flags: don't preallocate hash elements (required for LPM tries). */
export const BPF_F_NO_PREALLOC = 1 << 0;
/** map_flags: per-CPU LRU lists instead of a common one. */
export const BPF_F_NO_COMMON_LRU = 1 << 1;
/** map_flags: numa_node is valid. */
export const BPF_F_NUMA_NODE = 1 << 2;
/** map_flags/open flags: read-only from user space. */
export const BPF_F_RDONLY = 1 << 3;
/** map_flags/open flags: write-only from user space. */
export const BPF_F_WRONLY = 1 << 4;
/** map_flags (stack trace): store build ids instead of IPs. */
export const BPF_F_STACK_BUILD_ID = 1 << 5;
/** map_flags (hash): zero the hash seed (testing). */
export const BPF_F_ZERO_SEED = 1 << 6;
/** map_flags: read-only from BPF programs. */
export const BPF_F_RDONLY_PROG = 1 << 7;
/** map_flags: write-only from BPF programs. */
export const BPF_F_WRONLY_PROG = 1 << 8;
/** map_flags (sk_storage): clone the element with the socket. */
export const BPF_F_CLONE = 1 << 9;
/** map_flags (array): user space may mmap the values. */
export const BPF_F_MMAPABLE = 1 << 10;
/** map_flags (perf event array): keep perf events in the map when the fd that added them closes. */
export const BPF_F_PRESERVE_ELEMS = 1 << 11;
/** map_flags: a map usable as an inner map whose max_entries may differ from the template's. */
export const BPF_F_INNER_MAP = 1 << 12;

/** BPF_PROG_QUERY flags: include programs inherited from parent cgroups. */
export const BPF_F_QUERY_EFFECTIVE = 1 << 0;

/** BPF_PROG_RUN flags: run on the CPU given in cpu. */
export const BPF_F_TEST_RUN_ON_CPU = 1 << 0;
/** BPF_PROG_RUN flags: XDP live-frames mode; XDP_TX and XDP_REDIRECT really send (Linux 5.18). */
export const BPF_F_TEST_XDP_LIVE_FRAMES = 1 << 1;
/** BPF_PROG_RUN flags: the skb gets CHECKSUM_COMPLETE. */
export const BPF_F_TEST_SKB_CHECKSUM_COMPLETE = 1 << 2;

/** BPF_ENABLE_STATS: collect run_time_ns and run_cnt (bpf_prog_info). */
export const BPF_STATS_RUN_TIME = 0;

/** Length of a build id in a stack trace map. */
export const BPF_BUILD_ID_SIZE = 20;
/** Length of a program or map name, including the NUL (15 visible characters). */
export const BPF_OBJ_NAME_LEN = 16;

/** bpf_redirect flags: redirect to the ingress instead of the egress path (tc). */
export const BPF_F_INGRESS = 1 << 0;
/** bpf_redirect_map flags (XDP): send to every device in the map. */
export const BPF_F_BROADCAST = 1 << 3;
/** bpf_redirect_map flags (XDP): with BROADCAST, skip the ingress device. */
export const BPF_F_EXCLUDE_INGRESS = 1 << 4;

/** bpf_ringbuf_output/submit flags: don't wake up the consumer. */
export const BPF_RB_NO_WAKEUP = 1 << 0;
/** bpf_ringbuf_output/submit flags: always wake up the consumer. */
export const BPF_RB_FORCE_WAKEUP = 1 << 1;

/** Ring buffer record header len: the record is still being written. */
export const BPF_RINGBUF_BUSY_BIT = 0x80000000;
/** Ring buffer record header len: the record was discarded; skip it. */
export const BPF_RINGBUF_DISCARD_BIT = 0x40000000;
/** Ring buffer record header size (u32 len with the bits above, u32 page offset); records are 8-aligned. */
export const BPF_RINGBUF_HDR_SZ = 8;

/** Headroom the kernel reserves in front of an XDP frame, for bpf_xdp_adjust_head. */
export const XDP_PACKET_HEADROOM = 256;

/** XDP return code: drop and report an error (trace_xdp_exception). */
export const XDP_ABORTED = 0;
/** XDP return code: drop the frame. */
export const XDP_DROP = 1;
/** XDP return code: pass the frame on to the network stack. */
export const XDP_PASS = 2;
/** XDP return code: send the frame back out of the interface it came in on. */
export const XDP_TX = 3;
/** XDP return code: send the frame where bpf_redirect or bpf_redirect_map said. */
export const XDP_REDIRECT = 4;

/** struct xdp_md: the XDP program's context, as the program sees it. */
export const xdp_md: Struct = struct("xdp_md", [
  ["data", u32],
  ["data_end", u32],
  ["data_meta", u32],
  ["ingress_ifindex", u32],
  ["rx_queue_index", u32],
  ["egress_ifindex", u32],
]);

/** struct bpf_devmap_val: a BPF_MAP_TYPE_DEVMAP(_HASH) value with an optional program to run. */
export const bpf_devmap_val: Struct = struct("bpf_devmap_val", [
  ["ifindex", u32],
  ["bpf_prog", union("", [["fd", i32], ["id", u32]])],
]);

/** struct bpf_cpumap_val: a BPF_MAP_TYPE_CPUMAP value with an optional program to run. */
export const bpf_cpumap_val: Struct = struct("bpf_cpumap_val", [
  ["qsize", u32],
  ["bpf_prog", union("", [["fd", i32], ["id", u32]])],
]);

/** Length of a program tag (a truncated SHA1 of its instructions). */
export const BPF_TAG_SIZE = 8;

/**
 * struct bpf_prog_info: BPF_OBJ_GET_INFO_BY_FD on a program (232 bytes). The
 * pointer fields are user buffers (as u64) the kernel fills, with their counts
 * in and out. gpl_compatible is bit 0 of the u32 at offset 84 (a bitfield,
 * left out); the natural padding before netns_dev covers it.
 */
export const bpf_prog_info: Struct = struct("bpf_prog_info", [
  ["type", u32],
  ["id", u32],
  ["tag", array(u8, 8)],
  ["jited_prog_len", u32],
  ["xlated_prog_len", u32],
  ["jited_prog_insns", u64],
  ["xlated_prog_insns", u64],
  ["load_time", u64],
  ["created_by_uid", u32],
  ["nr_map_ids", u32],
  ["map_ids", u64],
  ["name", array(u8, 16)],
  ["ifindex", u32],
  ["netns_dev", u64],
  ["netns_ino", u64],
  ["nr_jited_ksyms", u32],
  ["nr_jited_func_lens", u32],
  ["jited_ksyms", u64],
  ["jited_func_lens", u64],
  ["btf_id", u32],
  ["func_info_rec_size", u32],
  ["func_info", u64],
  ["nr_func_info", u32],
  ["nr_line_info", u32],
  ["line_info", u64],
  ["jited_line_info", u64],
  ["nr_jited_line_info", u32],
  ["line_info_rec_size", u32],
  ["jited_line_info_rec_size", u32],
  ["nr_prog_tags", u32],
  ["prog_tags", u64],
  ["run_time_ns", u64],
  ["run_cnt", u64],
  ["recursion_misses", u64],
  ["verified_insns", u32],
  ["attach_btf_obj_id", u32],
  ["attach_btf_id", u32],
]);

/** struct bpf_map_info: BPF_OBJ_GET_INFO_BY_FD on a map (88 bytes). */
export const bpf_map_info: Struct = struct("bpf_map_info", [
  ["type", u32],
  ["id", u32],
  ["key_size", u32],
  ["value_size", u32],
  ["max_entries", u32],
  ["map_flags", u32],
  ["name", array(u8, 16)],
  ["ifindex", u32],
  ["btf_vmlinux_value_type_id", u32],
  ["netns_dev", u64],
  ["netns_ino", u64],
  ["btf_id", u32],
  ["btf_key_type_id", u32],
  ["btf_value_type_id", u32],
  ["map_extra", u64],
]);

/** struct bpf_btf_info: BPF_OBJ_GET_INFO_BY_FD on a BTF object. */
export const bpf_btf_info: Struct = struct("bpf_btf_info", [
  ["btf", u64],
  ["btf_size", u32],
  ["id", u32],
  ["name", u64],
  ["name_len", u32],
  ["kernel_btf", u32],
]);

/** struct bpf_link_info: BPF_OBJ_GET_INFO_BY_FD on a link; type (BPF_LINK_TYPE_*) picks the union member. */
export const bpf_link_info: Struct = struct("bpf_link_info", [
  ["type", u32],
  ["id", u32],
  ["prog_id", u32],
  ["", union("", [
    ["raw_tracepoint", struct("", [["tp_name", u64], ["tp_name_len", u32]])],
    ["tracing", struct("", [
      ["attach_type", u32],
      ["target_obj_id", u32],
      ["target_btf_id", u32],
    ])],
    ["cgroup", struct("", [["cgroup_id", u64], ["attach_type", u32]])],
    ["iter", struct("", [
      ["target_name", u64],
      ["target_name_len", u32],
      ["", union("", [["map", struct("", [["map_id", u32]])]])],
      ["", union("", [
        ["cgroup", struct("", [["cgroup_id", u64], ["order", u32]])],
        ["task", struct("", [["tid", u32], ["pid", u32]])],
      ])],
    ])],
    ["netns", struct("", [["netns_ino", u32], ["attach_type", u32]])],
    ["xdp", struct("", [["ifindex", u32]])],
  ])],
]);

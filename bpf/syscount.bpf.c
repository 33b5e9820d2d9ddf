// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * kernelkit's syscall counter (`kernelkit trace syscalls`, SysCount): counts
 * every system call by process and syscall number, at the raw_syscalls
 * sys_enter tracepoint.
 *
 * It attaches as a BTF-typed tracepoint (tp_btf/sys_enter): the same hook as
 * raw_syscalls:sys_enter, but typed by the kernel's BTF and attached with a
 * bpf_link, so it needs no tracefs and no perf event.
 *
 * Counts live in a per-CPU hash keyed by (pid, syscall number): each CPU
 * increments its own slot without atomics, and user space sums the slots.
 * A key that can't be added because the hash is full is counted in `lost`.
 *
 * The map layouts are part of kernelkit's API: src/bpf/syscount.ts declares
 * the same structs. Change both together.
 *
 * Build: scripts/build-bpf.ts (CO-RE, with vmlinux.h from bpftool).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* A counter's key: the process (tgid, what user space calls the pid) and the syscall number. */
struct kk_syscount_key {
	__u32 pid;
	__u32 nr;
};

/* What to count, written by user space before attaching. */
struct kk_syscount_config {
	__u32 pid; /* only this process; 0: every process */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct kk_syscount_key);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kk_syscount_config);
} settings SEC(".maps");

/* Calls not counted because `counts` was full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(kk_syscount, struct pt_regs *regs, long id)
{
	__u32 zero = 0;
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct kk_syscount_config *cfg = bpf_map_lookup_elem(&settings, &zero);
	struct kk_syscount_key key;
	__u64 one = 1, *n;

	if (!cfg || id < 0)
		return 0;
	if (cfg->pid && cfg->pid != pid)
		return 0;
	key.pid = pid;
	key.nr = (__u32)id;
	n = bpf_map_lookup_elem(&counts, &key);
	if (n) {
		(*n)++;
		return 0;
	}
	if (bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST) == 0)
		return 0;
	/* Another CPU added the key meanwhile (EEXIST), or the hash is full. */
	n = bpf_map_lookup_elem(&counts, &key);
	if (n) {
		(*n)++;
		return 0;
	}
	n = bpf_map_lookup_elem(&lost, &zero);
	if (n)
		(*n)++;
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";

// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * kernelkit's open() tracer (`kernelkit trace opens`, OpenSnoop): one event
 * per openat(2) system call, with the process, the path, the flags and the
 * result, sent to user space through a BPF ring buffer.
 *
 * sys_enter_openat remembers the arguments per thread; sys_exit_openat pairs
 * them with the result, reads the path from the caller's memory and sends the
 * event. Both are the `syscalls` tracepoints (CONFIG_FTRACE_SYSCALLS), attached
 * through perf events, so tracefs must be mounted (kernelkit mounts it at
 * /sys/kernel/tracing when it runs as root). The tracepoint context structs
 * come from vmlinux.h and are CO-RE relocated when loaded.
 *
 * An event has a fixed head and only as much of the path as is set, so a
 * short path takes a short record. An event that finds the ring buffer full
 * is dropped and counted in `lost`: the kernel never waits for the reader.
 *
 * Files opened by io_uring (IORING_OP_OPENAT) make no system call and are not
 * seen here.
 *
 * The layouts are part of kernelkit's API: src/bpf/opensnoop.ts declares the
 * same structs. Change both together.
 *
 * Build: scripts/build-bpf.ts (CO-RE, with vmlinux.h from bpftool).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#define KK_COMM_LEN 16
#define KK_PATH_MAX 256

/* Which opens to report, written by user space before attaching. */
struct kk_open_config {
	__u32 pid;        /* only this process; 0: every process */
	__u32 match_comm; /* 1: only tasks whose comm is `comm` */
	char comm[KK_COMM_LEN];
};

/* The arguments of an openat in flight, by thread. */
struct kk_open_args {
	__u64 path;
	__s32 dirfd;
	__s32 flags;
	__u32 mode;
	__u32 pad;
};

/* One open, as sent: the head, then `path` up to and including its NUL. */
struct kk_open_event {
	__u64 ts_ns;  /* bpf_ktime_get_ns() at the syscall's exit */
	__u32 pid;    /* tgid */
	__u32 tid;
	__u32 uid;
	__s32 ret;    /* the new fd, or -errno */
	__s32 dirfd;
	__s32 flags;
	__u32 mode;
	char comm[KK_COMM_LEN];
	char path[KK_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kk_open_config);
} settings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct kk_open_args);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 21);
} events SEC(".maps");

/* Events dropped because the ring buffer was full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* Room to build an event (too big for the 512-byte BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kk_open_event);
} scratch SEC(".maps");

static __always_inline int wanted(__u32 pid)
{
	__u32 zero = 0;
	struct kk_open_config *cfg = bpf_map_lookup_elem(&settings, &zero);
	char comm[KK_COMM_LEN];

	if (!cfg)
		return 0;
	if (cfg->pid && cfg->pid != pid)
		return 0;
	if (!cfg->match_comm)
		return 1;
	bpf_get_current_comm(comm, sizeof(comm));
	for (int i = 0; i < KK_COMM_LEN; i++) {
		if (comm[i] != cfg->comm[i])
			return 0;
		if (comm[i] == 0)
			break;
	}
	return 1;
}

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&lost, &zero);

	if (n)
		(*n)++;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int kk_openat_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct kk_open_args args = {};

	if (!wanted(id >> 32))
		return 0;
	args.dirfd = (__s32)BPF_CORE_READ(ctx, args[0]);
	args.path = BPF_CORE_READ(ctx, args[1]);
	args.flags = (__s32)BPF_CORE_READ(ctx, args[2]);
	args.mode = (__u32)BPF_CORE_READ(ctx, args[3]);
	bpf_map_update_elem(&inflight, &id, &args, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int kk_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 zero = 0;
	struct kk_open_args *args = bpf_map_lookup_elem(&inflight, &id);
	struct kk_open_event *e;
	long len;

	if (!args)
		return 0;
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		goto out;
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->ret = (__s32)BPF_CORE_READ(ctx, ret);
	e->dirfd = args->dirfd;
	e->flags = args->flags;
	e->mode = args->mode;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	len = bpf_probe_read_user_str(e->path, sizeof(e->path), (const void *)args->path);
	if (len <= 0) {
		e->path[0] = 0;
		len = 1;
	}
	if (len > KK_PATH_MAX)
		len = KK_PATH_MAX;
	if (bpf_ringbuf_output(&events, e, offsetof(struct kk_open_event, path) + len, 0))
		count_lost();
out:
	bpf_map_delete_elem(&inflight, &id);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";

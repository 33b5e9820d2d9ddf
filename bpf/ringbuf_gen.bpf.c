// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * A ring buffer record generator, for measuring and testing a consumer: each
 * run of a program writes one record into the `records` ring buffer. Run it
 * with BPF_PROG_RUN and a repeat count (`program.run(frame, { repeat })`) to
 * produce that many records in one system call, without attaching anything.
 *
 * Each record starts with the run's sequence number on its CPU and the CPU,
 * so a consumer can check that it saw every record it was given, in order. A
 * record that finds the ring full is dropped and counted in `lost`, as
 * kernelkit's tracing programs do: delivered + lost = produced.
 *
 * kk_gen_16 writes 16-byte records and kk_gen_64 64-byte ones, with
 * bpf_ringbuf_reserve/submit; kk_gen_discard reserves a 16-byte record and
 * discards every other one (bpf_ringbuf_discard), which a consumer must skip.
 * They are tc (sched_cls) programs only because those can be run with a
 * repeat count; the packet is not looked at. (XDP programs can too, but each
 * BPF_PROG_RUN of one re-registers the XDP dispatcher and waits for an RCU
 * grace period: tens of milliseconds per call.)
 *
 * Build: scripts/build-bpf.ts (clang -O2 -g -target bpf).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* The head of every record. */
struct kk_gen_head {
	__u64 seq; /* the number of runs on this CPU before this one */
	__u32 cpu;
	__u32 size; /* the record's size */
};

struct kk_gen_record_64 {
	struct kk_gen_head head;
	__u64 fill[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} records SEC(".maps");

/* Runs per CPU: the next sequence number. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seq SEC(".maps");

/* Records dropped because the ring buffer was full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

static __always_inline __u64 next_seq(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&seq, &zero);

	return n ? (*n)++ : 0;
}

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&lost, &zero);

	if (n)
		(*n)++;
}

SEC("tc")
int kk_gen_16(struct __sk_buff *ctx)
{
	__u64 s = next_seq();
	struct kk_gen_head *r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);

	if (!r) {
		count_lost();
		return 0;
	}
	r->seq = s;
	r->cpu = bpf_get_smp_processor_id();
	r->size = sizeof(*r);
	bpf_ringbuf_submit(r, 0);
	return 0;
}

SEC("tc")
int kk_gen_64(struct __sk_buff *ctx)
{
	__u64 s = next_seq();
	struct kk_gen_record_64 *r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);

	if (!r) {
		count_lost();
		return 0;
	}
	r->head.seq = s;
	r->head.cpu = bpf_get_smp_processor_id();
	r->head.size = sizeof(*r);
	for (int i = 0; i < 6; i++)
		r->fill[i] = s + i;
	bpf_ringbuf_submit(r, 0);
	return 0;
}

SEC("tc")
int kk_gen_discard(struct __sk_buff *ctx)
{
	__u64 s = next_seq();
	struct kk_gen_head *r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);

	if (!r) {
		count_lost();
		return 0;
	}
	r->seq = s;
	r->cpu = bpf_get_smp_processor_id();
	r->size = sizeof(*r);
	if (s & 1)
		bpf_ringbuf_discard(r, 0);
	else
		bpf_ringbuf_submit(r, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";

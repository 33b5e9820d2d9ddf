// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * The packet generator of `kernelkit xdp flood`: run with BPF_PROG_RUN in
 * live-frames mode (BPF_F_TEST_XDP_LIVE_FRAMES, Linux 5.18) on a template
 * frame, it sends each copy out of one interface with XDP_REDIRECT. On a veth
 * the peer receives them as XDP frames, with no sk_buff built on the way.
 *
 * The target interface index is slot 0 of the `target` array, written from
 * user space after load.
 *
 * Build: scripts/build-bpf.ts (clang -O2 -g -target bpf).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target SEC(".maps");

SEC("xdp")
int kk_flood(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u32 *ifindex = bpf_map_lookup_elem(&target, &zero);

	if (!ifindex || !*ifindex)
		return XDP_DROP;
	return bpf_redirect(*ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";

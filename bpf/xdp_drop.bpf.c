// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * The smallest useful XDP program: drop every frame. The benchmarks' baseline
 * for what an XDP drop costs; it keeps no counters of its own (the veth's
 * xdp_drops statistic counts them).
 *
 * Build: scripts/build-bpf.ts (clang -O2 -g -target bpf).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int kk_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";

// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * kernelkit's XDP firewall: drops packets whose source address is in an IPv4
 * or IPv6 blocklist (longest-prefix-match tries), before the kernel builds an
 * sk_buff for them, and counts every packet and byte per reason.
 *
 * What it parses: Ethernet, then up to two VLAN tags (802.1Q or 802.1ad),
 * then an IPv4 or IPv6 header. A frame too short for the header it claims,
 * or an IPv4 header with a bad version or IHL, is "malformed": it is passed on
 * to the stack (which drops it properly) and counted, never read past its end.
 * The verifier refuses any read that isn't bounds-checked against data_end.
 *
 * The map layouts are part of kernelkit's API: src/bpf/firewall.ts declares
 * the same structs. Change both together.
 *
 * Build: scripts/build-bpf.ts (clang -O2 -g -target bpf).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* Why a packet was passed or dropped: the index into the stats map. */
enum kk_reason {
	KK_PASS_IPV4 = 0,      /* IPv4, source not blocked */
	KK_PASS_IPV6 = 1,      /* IPv6, source not blocked */
	KK_PASS_OTHER = 2,     /* neither IPv4 nor IPv6 (ARP, LLDP, ...) */
	KK_PASS_MALFORMED = 3, /* truncated or invalid headers: passed, counted */
	KK_DROP_IPV4 = 4,      /* IPv4 source in blocklist_v4 */
	KK_DROP_IPV6 = 5,      /* IPv6 source in blocklist_v6 */
	KK_REASONS = 6,
};

/* A counter: packets and bytes (the frame's length from the Ethernet header on). */
struct kk_counter {
	__u64 packets;
	__u64 bytes;
};

/* An LPM-trie key: prefix length in bits, then the address in network order. */
struct kk_v4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct kk_v6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, struct kk_v4_key);
	__type(value, struct kk_counter); /* drops matched by this entry */
} blocklist_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, struct kk_v6_key);
	__type(value, struct kk_counter);
} blocklist_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KK_REASONS);
	__type(key, __u32);
	__type(value, struct kk_counter);
} stats SEC(".maps");

#define VLAN_HLEN 4
#define MAX_VLAN_TAGS 2

static __always_inline int count(__u32 reason, __u64 bytes, int action)
{
	struct kk_counter *c = bpf_map_lookup_elem(&stats, &reason);

	if (c) {
		/* Per-CPU: no other CPU writes this slot, no atomics needed. */
		c->packets += 1;
		c->bytes += bytes;
	}
	return action;
}

static __always_inline int drop(struct kk_counter *rule, __u32 reason, __u64 bytes)
{
	/* The rule's counter is shared by all CPUs. */
	__sync_fetch_and_add(&rule->packets, 1);
	__sync_fetch_and_add(&rule->bytes, bytes);
	return count(reason, bytes, XDP_DROP);
}

SEC("xdp")
int kk_firewall(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 bytes = data_end - data;
	struct ethhdr *eth = data;
	void *cursor;
	__u16 proto;
	int i;

	if ((void *)(eth + 1) > data_end)
		return count(KK_PASS_MALFORMED, bytes, XDP_PASS);
	proto = eth->h_proto;
	cursor = eth + 1;

#pragma unroll
	for (i = 0; i < MAX_VLAN_TAGS; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		/* A tag: 2 bytes of TCI, then the encapsulated protocol. */
		if (cursor + VLAN_HLEN > data_end)
			return count(KK_PASS_MALFORMED, bytes, XDP_PASS);
		proto = *(__u16 *)(cursor + 2);
		cursor += VLAN_HLEN;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = cursor;
		struct kk_v4_key key = { .prefixlen = 32 };
		struct kk_counter *rule;

		if ((void *)(ip + 1) > data_end)
			return count(KK_PASS_MALFORMED, bytes, XDP_PASS);
		if (ip->version != 4 || ip->ihl < 5 || cursor + ip->ihl * 4 > data_end)
			return count(KK_PASS_MALFORMED, bytes, XDP_PASS);
		__builtin_memcpy(key.addr, &ip->saddr, 4);
		rule = bpf_map_lookup_elem(&blocklist_v4, &key);
		if (rule)
			return drop(rule, KK_DROP_IPV4, bytes);
		return count(KK_PASS_IPV4, bytes, XDP_PASS);
	}

	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = cursor;
		struct kk_v6_key key = { .prefixlen = 128 };
		struct kk_counter *rule;

		if ((void *)(ip6 + 1) > data_end)
			return count(KK_PASS_MALFORMED, bytes, XDP_PASS);
		if (ip6->version != 6)
			return count(KK_PASS_MALFORMED, bytes, XDP_PASS);
		__builtin_memcpy(key.addr, &ip6->saddr, 16);
		rule = bpf_map_lookup_elem(&blocklist_v6, &key);
		if (rule)
			return drop(rule, KK_DROP_IPV6, bytes);
		return count(KK_PASS_IPV6, bytes, XDP_PASS);
	}

	return count(KK_PASS_OTHER, bytes, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";

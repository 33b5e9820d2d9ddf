/**
 * `<linux/if_ether.h>` and `<linux/if_packet.h>`: Ethernet header sizes and
 * protocol ids, and the AF_PACKET socket address, in header order.
 *
 * The ETH_P_* values are host-order numbers; on the wire (h_proto, and the
 * protocol argument of socket(AF_PACKET, ...)) they are big-endian.
 *
 * @module
 */
import { array, i32, type Struct, struct, u16, u8 } from "../layout.ts";

/** The headers the layout test includes for this file. */
export const HEADERS: readonly string[] = ["linux/if_ether.h", "linux/if_packet.h"];

/** Octets in one Ethernet address. */
export const ETH_ALEN = 6;
/** Octets in an Ethernet header (two addresses and the protocol). */
export const ETH_HLEN = 14;
/** Minimum Ethernet payload, without the FCS. */
export const ETH_ZLEN = 60;
/** Maximum Ethernet payload (the classic MTU). */
export const ETH_DATA_LEN = 1500;

/** Ethernet protocol: IPv4. */
export const ETH_P_IP = 0x0800;
/** Ethernet protocol: ARP. */
export const ETH_P_ARP = 0x0806;
/** Ethernet protocol: an 802.1Q VLAN tag follows. */
export const ETH_P_8021Q = 0x8100;
/** Ethernet protocol: IPv6. */
export const ETH_P_IPV6 = 0x86dd;
/** Ethernet protocol: an 802.1ad (QinQ service) VLAN tag follows. */
export const ETH_P_8021AD = 0x88a8;
/** AF_PACKET protocol: every protocol (receive side). */
export const ETH_P_ALL = 0x0003;

/** struct sockaddr_ll: an AF_PACKET address, a device and a link-layer address (20 bytes). */
export const sockaddr_ll: Struct = struct("sockaddr_ll", [
  ["sll_family", u16],
  ["sll_protocol", u16],
  ["sll_ifindex", i32],
  ["sll_hatype", u16],
  ["sll_pkttype", u8],
  ["sll_halen", u8],
  ["sll_addr", array(u8, 8)],
]);

/** sll_pkttype: addressed to this host. */
export const PACKET_HOST = 0;
/** sll_pkttype: sent by this host. */
export const PACKET_OUTGOING = 4;
/** SOL_PACKET option: skip the qdisc layer on send (the driver's queue directly). */
export const PACKET_QDISC_BYPASS = 20;

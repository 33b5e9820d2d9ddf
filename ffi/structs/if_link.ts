/**
 * `<net/if.h>` and `<linux/if_link.h>`: interface name length and flags, and
 * the XDP attach flags and netlink attributes, in header order.
 *
 * @module
 */

/** The headers the layout test includes for this file. */
export const HEADERS: readonly string[] = ["net/if.h", "linux/if_link.h"];

/** Interface flag: the administrator has brought the link up. */
export const IFF_UP = 0x1;
/** Interface flag: broadcast address valid. */
export const IFF_BROADCAST = 0x2;
/** Interface flag: a loopback device. */
export const IFF_LOOPBACK = 0x8;
/** Interface flag: the link is operationally up (carrier present). */
export const IFF_RUNNING = 0x40;
/** Interface flag: receive all packets. */
export const IFF_PROMISC = 0x100;

/** Size of an interface name buffer, including the NUL (15 visible characters). */
export const IF_NAMESIZE = 16;
/** The kernel's name for IF_NAMESIZE. */
export const IFNAMSIZ = 16;

/** XDP attach flag: fail with EBUSY if a program is already attached. */
export const XDP_FLAGS_UPDATE_IF_NOEXIST = 1 << 0;
/** XDP attach flag: generic mode, after the skb is built; works on every device, slowest. */
export const XDP_FLAGS_SKB_MODE = 1 << 1;
/** XDP attach flag: native mode, in the driver before an skb exists (veth and most NICs). */
export const XDP_FLAGS_DRV_MODE = 1 << 2;
/** XDP attach flag: offloaded to the NIC. */
export const XDP_FLAGS_HW_MODE = 1 << 3;
/** XDP attach flag: replace only the program given as the expected fd. */
export const XDP_FLAGS_REPLACE = 1 << 4;
/** Mask of the XDP mode flags (SKB, DRV, HW). */
export const XDP_FLAGS_MODES = (1 << 1) | (1 << 2) | (1 << 3);
/** Mask of every XDP attach flag. */
export const XDP_FLAGS_MASK = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4);

/** IFLA_XDP_ATTACHED: no program attached. */
export const XDP_ATTACHED_NONE = 0;
/** IFLA_XDP_ATTACHED: a native (driver) program is attached. */
export const XDP_ATTACHED_DRV = 1;
/** IFLA_XDP_ATTACHED: a generic (skb) program is attached. */
export const XDP_ATTACHED_SKB = 2;
/** IFLA_XDP_ATTACHED: an offloaded program is attached. */
export const XDP_ATTACHED_HW = 3;
/** IFLA_XDP_ATTACHED: programs in more than one mode are attached. */
export const XDP_ATTACHED_MULTI = 4;

/** Netlink attribute nested in IFLA_XDP: unspecified. */
export const IFLA_XDP_UNSPEC = 0;
/** IFLA_XDP attribute: program fd to attach (-1 detaches). */
export const IFLA_XDP_FD = 1;
/** IFLA_XDP attribute: XDP_ATTACHED_* on dump. */
export const IFLA_XDP_ATTACHED = 2;
/** IFLA_XDP attribute: XDP_FLAGS_*. */
export const IFLA_XDP_FLAGS = 3;
/** IFLA_XDP attribute: id of the attached program (single mode). */
export const IFLA_XDP_PROG_ID = 4;
/** IFLA_XDP attribute: id of the native program. */
export const IFLA_XDP_DRV_PROG_ID = 5;
/** IFLA_XDP attribute: id of the generic program. */
export const IFLA_XDP_SKB_PROG_ID = 6;
/** IFLA_XDP attribute: id of the offloaded program. */
export const IFLA_XDP_HW_PROG_ID = 7;
/** IFLA_XDP attribute: fd of the program to replace (with XDP_FLAGS_REPLACE). */
export const IFLA_XDP_EXPECTED_FD = 8;
/** The highest IFLA_XDP attribute. */
export const IFLA_XDP_MAX = 8;

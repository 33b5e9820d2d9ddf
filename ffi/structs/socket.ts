/**
 * `<sys/socket.h>`, `<netinet/in.h>`, `<netinet/tcp.h>`, `<sys/un.h>` and
 * `<linux/errqueue.h>`: socket addresses, message headers, and the socket,
 * IP and TCP constants kernelkit's own sockets use, in header order.
 *
 * Byte order: sin_port, sin6_port and s_addr hold network (big-endian) order.
 * The INADDR_* constants are in host order, as in C: write them with
 * `DataView.setUint32(offset, INADDR_LOOPBACK, false)`.
 *
 * @module
 */
import { array, i32, ptr, type Struct, struct, u16, u32, u64, u8, union } from "../layout.ts";

/** The headers the layout test includes for this file. */
export const HEADERS: readonly string[] = [
  "sys/socket.h",
  "netinet/in.h",
  "netinet/tcp.h",
  "sys/un.h",
  "linux/errqueue.h",
];

/** socket type: a reliable byte stream (TCP). */
export const SOCK_STREAM = 1;
/** socket type: datagrams (UDP). */
export const SOCK_DGRAM = 2;
/** socket type: raw packets (needs CAP_NET_RAW). */
export const SOCK_RAW = 3;
/** socket type: reliable, ordered datagrams with boundaries (AF_UNIX, SCTP). */
export const SOCK_SEQPACKET = 5;
/** socket type flag: set FD_CLOEXEC on the new fd. */
export const SOCK_CLOEXEC = 0o2000000;
/** socket type flag: set O_NONBLOCK on the new fd. */
export const SOCK_NONBLOCK = 0o4000;

/** Address family: unspecified. */
export const AF_UNSPEC = 0;
/** Address family: local (Unix domain) sockets. */
export const AF_UNIX = 1;
/** Address family: IPv4. */
export const AF_INET = 2;
/** Address family: IPv6. */
export const AF_INET6 = 10;
/** Address family: netlink (rtnetlink, used for link and XDP setup). */
export const AF_NETLINK = 16;
/** Address family: packet sockets at the device level (needs CAP_NET_RAW). */
export const AF_PACKET = 17;
/** Address family: XDP sockets (AF_XDP). */
export const AF_XDP = 44;

/** setsockopt level: IPv4 (same as IPPROTO_IP). */
export const SOL_IP = 0;
/** setsockopt level: IPv6 (same as IPPROTO_IPV6). */
export const SOL_IPV6 = 41;
/** setsockopt level: packet sockets. */
export const SOL_PACKET = 263;
/** setsockopt level: XDP sockets. */
export const SOL_XDP = 283;

/** listen backlog: glibc's SOMAXCONN; the kernel caps the backlog at /proc/sys/net/core/somaxconn. */
export const SOMAXCONN = 4096;

/** struct sockaddr: the generic address header (16 bytes). */
export const sockaddr: Struct = struct("sockaddr", [
  ["sa_family", u16],
  ["sa_data", array(u8, 14)],
]);

/** struct sockaddr_storage: room for any socket address (128 bytes, 8-aligned). */
export const sockaddr_storage: Struct = struct("sockaddr_storage", [
  ["ss_family", u16],
  ["__ss_padding", array(u8, 118)],
  ["__ss_align", u64],
]);

/** send/recv flags: out-of-band data. */
export const MSG_OOB = 0x01;
/** recv flags: look at the data without taking it. */
export const MSG_PEEK = 0x02;
/** send flags: don't route, only directly connected networks. */
export const MSG_DONTROUTE = 0x04;
/** recvmsg msg_flags: control data was truncated. */
export const MSG_CTRUNC = 0x08;
/** recv flags: return the real length of a datagram; msg_flags: the datagram was truncated. */
export const MSG_TRUNC = 0x20;
/** send/recv flags: this call doesn't block (EAGAIN instead). */
export const MSG_DONTWAIT = 0x40;
/** send flags: end of record (SOCK_SEQPACKET). */
export const MSG_EOR = 0x80;
/** recv flags: wait for the full length (unless a signal, error or EOF). */
export const MSG_WAITALL = 0x100;
/** recvmsg flags: read the error queue (IP_RECVERR, MSG_ZEROCOPY notifications). */
export const MSG_ERRQUEUE = 0x2000;
/** send flags: no SIGPIPE when the peer has closed; EPIPE only. */
export const MSG_NOSIGNAL = 0x4000;
/** send flags: more data follows (like TCP_CORK for one call). */
export const MSG_MORE = 0x8000;
/** recvmmsg flags: wait for one message, then don't block. */
export const MSG_WAITFORONE = 0x10000;
/** send flags: zero-copy send; completion arrives on the error queue (needs SO_ZEROCOPY). */
export const MSG_ZEROCOPY = 0x4000000;
/** send flags: TCP Fast Open: send data with the SYN. */
export const MSG_FASTOPEN = 0x20000000;
/** recvmsg flags: set FD_CLOEXEC on fds received with SCM_RIGHTS. */
export const MSG_CMSG_CLOEXEC = 0x40000000;

/** struct msghdr: the argument of sendmsg/recvmsg and IORING_OP_SENDMSG/RECVMSG (56 bytes). */
export const msghdr: Struct = struct("msghdr", [
  ["msg_name", ptr],
  ["msg_namelen", u32],
  ["msg_iov", ptr],
  ["msg_iovlen", u64],
  ["msg_control", ptr],
  ["msg_controllen", u64],
  ["msg_flags", i32],
]);

/** struct cmsghdr: one control message header; data starts at the next 8-byte boundary (16 bytes). */
export const cmsghdr: Struct = struct("cmsghdr", [
  ["cmsg_len", u64],
  ["cmsg_level", i32],
  ["cmsg_type", i32],
  ["__cmsg_data", array(u8, 0)],
]);

/** cmsg_type at SOL_SOCKET: pass file descriptors. */
export const SCM_RIGHTS = 0x01;

/** struct mmsghdr: one message of sendmmsg/recvmmsg (64 bytes). */
export const mmsghdr: Struct = struct("mmsghdr", [
  ["msg_hdr", msghdr],
  ["msg_len", u32],
]);

/** setsockopt level: the socket itself. */
export const SOL_SOCKET = 1;
/** SOL_SOCKET: allow binding an address in TIME_WAIT. */
export const SO_REUSEADDR = 2;
/** SOL_SOCKET: socket type (read only). */
export const SO_TYPE = 3;
/** SOL_SOCKET: read and clear the pending error (after a non-blocking connect). */
export const SO_ERROR = 4;
/** SOL_SOCKET: send buffer size (the kernel doubles it; capped by net.core.wmem_max). */
export const SO_SNDBUF = 7;
/** SOL_SOCKET: receive buffer size (the kernel doubles it; capped by net.core.rmem_max). */
export const SO_RCVBUF = 8;
/** SOL_SOCKET: send keepalive probes. */
export const SO_KEEPALIVE = 9;
/** SOL_SOCKET: linger on close (struct linger). */
export const SO_LINGER = 13;
/** SOL_SOCKET: let several sockets of one user bind the same address and port; the kernel spreads load. */
export const SO_REUSEPORT = 15;
/** SOL_SOCKET: bind to an interface by name. */
export const SO_BINDTODEVICE = 25;
/** SOL_SOCKET: the socket is listening (read only). */
export const SO_ACCEPTCONN = 30;
/** SOL_SOCKET: packet mark (needs CAP_NET_ADMIN). */
export const SO_MARK = 36;
/** SOL_SOCKET: busy-poll the device queue on blocking reads, in µs. */
export const SO_BUSY_POLL = 46;
/** SOL_SOCKET: the CPU that handled the last packet. */
export const SO_INCOMING_CPU = 49;
/** SOL_SOCKET: attach an eBPF socket filter by prog fd. */
export const SO_ATTACH_BPF = 50;
/** SOL_SOCKET: select a SO_REUSEPORT socket with an eBPF program. */
export const SO_ATTACH_REUSEPORT_EBPF = 52;
/** SOL_SOCKET: the socket cookie, as bpf_get_socket_cookie() sees it. */
export const SO_COOKIE = 57;
/** SOL_SOCKET: allow MSG_ZEROCOPY sends (Linux 4.14). */
export const SO_ZEROCOPY = 60;
/** SOL_SOCKET: bind to an interface by index. */
export const SO_BINDTOIFINDEX = 62;
/** SOL_SOCKET: prefer busy polling over interrupts (Linux 5.11). */
export const SO_PREFER_BUSY_POLL = 69;
/** SOL_SOCKET: packets per busy-poll round (Linux 5.11). */
export const SO_BUSY_POLL_BUDGET = 70;

/** shutdown: no more receptions. */
export const SHUT_RD = 0;
/** shutdown: no more transmissions (sends FIN). */
export const SHUT_WR = 1;
/** shutdown: both. */
export const SHUT_RDWR = 2;

/** Protocol: IPv4 (also the setsockopt level). */
export const IPPROTO_IP = 0;
/** Protocol: ICMP. */
export const IPPROTO_ICMP = 1;
/** Protocol: TCP (also the setsockopt level). */
export const IPPROTO_TCP = 6;
/** Protocol: UDP. */
export const IPPROTO_UDP = 17;
/** Protocol: IPv6 (also the setsockopt level). */
export const IPPROTO_IPV6 = 41;
/** Protocol: ICMPv6. */
export const IPPROTO_ICMPV6 = 58;
/** Protocol: raw IP packets. */
export const IPPROTO_RAW = 255;

/** struct in_addr: an IPv4 address in network byte order. */
export const in_addr: Struct = struct("in_addr", [["s_addr", u32]]);

/** IPv4 wildcard address 0.0.0.0 (host order). */
export const INADDR_ANY = 0x00000000;
/** IPv4 broadcast address 255.255.255.255 (host order). */
export const INADDR_BROADCAST = 0xffffffff;
/** IPv4 loopback address 127.0.0.1 (host order). */
export const INADDR_LOOPBACK = 0x7f000001;

/**
 * struct in6_addr: an IPv6 address (16 bytes). glibc declares a union inside;
 * s6_addr, s6_addr16 and s6_addr32 are its macros for the union's members.
 */
export const in6_addr: Struct = struct("in6_addr", [
  ["", union("", [
    ["s6_addr", array(u8, 16)],
    ["s6_addr16", array(u16, 8)],
    ["s6_addr32", array(u32, 4)],
  ])],
]);

/** struct sockaddr_in: an IPv4 socket address (16 bytes). */
export const sockaddr_in: Struct = struct("sockaddr_in", [
  ["sin_family", u16],
  ["sin_port", u16],
  ["sin_addr", in_addr],
  ["sin_zero", array(u8, 8)],
]);

/** struct sockaddr_in6: an IPv6 socket address (28 bytes). */
export const sockaddr_in6: Struct = struct("sockaddr_in6", [
  ["sin6_family", u16],
  ["sin6_port", u16],
  ["sin6_flowinfo", u32],
  ["sin6_addr", in6_addr],
  ["sin6_scope_id", u32],
]);

/** IPPROTO_IP: type of service byte. */
export const IP_TOS = 1;
/** IPPROTO_IP: time to live. */
export const IP_TTL = 2;
/** IPPROTO_IP: the application supplies the IP header (raw sockets). */
export const IP_HDRINCL = 3;
/** IPPROTO_IP: receive extended errors on the error queue. */
export const IP_RECVERR = 11;
/** IPPROTO_IPV6: extended errors on the error queue. */
export const IPV6_RECVERR = 25;
/** IPPROTO_IPV6: an AF_INET6 socket accepts IPv6 only (no v4-mapped addresses). */
export const IPV6_V6ONLY = 26;

/** IPPROTO_TCP: send small segments at once (disable Nagle). */
export const TCP_NODELAY = 1;
/** IPPROTO_TCP: maximum segment size. */
export const TCP_MAXSEG = 2;
/** IPPROTO_TCP: hold partial frames until uncorked (or 200 ms). */
export const TCP_CORK = 3;
/** IPPROTO_TCP: idle seconds before keepalive probes. */
export const TCP_KEEPIDLE = 4;
/** IPPROTO_TCP: seconds between keepalive probes. */
export const TCP_KEEPINTVL = 5;
/** IPPROTO_TCP: keepalive probes before the connection drops. */
export const TCP_KEEPCNT = 6;
/** IPPROTO_TCP: wake accept only when data arrives (seconds to wait). */
export const TCP_DEFER_ACCEPT = 9;
/** IPPROTO_TCP: struct tcp_info. */
export const TCP_INFO = 11;
/** IPPROTO_TCP: send ACKs at once. */
export const TCP_QUICKACK = 12;
/** IPPROTO_TCP: congestion control algorithm name. */
export const TCP_CONGESTION = 13;
/** IPPROTO_TCP: ms unacknowledged before the connection drops. */
export const TCP_USER_TIMEOUT = 18;
/** IPPROTO_TCP: Fast Open queue length (server). */
export const TCP_FASTOPEN = 23;
/** IPPROTO_TCP: poll reports writable only below this many unsent bytes. */
export const TCP_NOTSENT_LOWAT = 25;
/** setsockopt level: TCP (same as IPPROTO_TCP). */
export const SOL_TCP = 6;

/**
 * struct sockaddr_un: a Unix domain socket address (110 bytes). sun_path is
 * NUL-terminated, or an abstract name if it starts with NUL.
 */
export const sockaddr_un: Struct = struct("sockaddr_un", [
  ["sun_family", u16],
  ["sun_path", array(u8, 108)],
]);

/** struct sock_ee_data_rfc4884: ICMP extension info of an error queue message. */
export const sock_ee_data_rfc4884: Struct = struct("sock_ee_data_rfc4884", [
  ["len", u16],
  ["flags", u8],
  ["reserved", u8],
]);

/**
 * struct sock_extended_err: the IP_RECVERR/IPV6_RECVERR control message payload
 * (16 bytes). For MSG_ZEROCOPY completions ee_origin is SO_EE_ORIGIN_ZEROCOPY
 * and [ee_info, ee_data] is the inclusive range of completed send counters.
 */
export const sock_extended_err: Struct = struct("sock_extended_err", [
  ["ee_errno", u32],
  ["ee_origin", u8],
  ["ee_type", u8],
  ["ee_code", u8],
  ["ee_pad", u8],
  ["ee_info", u32],
  ["", union("", [
    ["ee_data", u32],
    ["ee_rfc4884", sock_ee_data_rfc4884],
  ])],
]);

/** ee_origin: no origin. */
export const SO_EE_ORIGIN_NONE = 0;
/** ee_origin: a local error. */
export const SO_EE_ORIGIN_LOCAL = 1;
/** ee_origin: an ICMP error. */
export const SO_EE_ORIGIN_ICMP = 2;
/** ee_origin: an ICMPv6 error. */
export const SO_EE_ORIGIN_ICMP6 = 3;
/** ee_origin: a MSG_ZEROCOPY completion notification. */
export const SO_EE_ORIGIN_ZEROCOPY = 5;
/** ee_code of a zero-copy notification: the kernel copied the data after all (no gain). */
export const SO_EE_CODE_ZEROCOPY_COPIED = 1;

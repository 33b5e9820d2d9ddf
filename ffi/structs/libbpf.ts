/**
 * `<bpf/libbpf.h>` and `<bpf/bpf.h>` (libbpf 1.1 on Debian 12): the options
 * structs of the libbpf functions kernelkit calls, libbpf's own error codes and
 * log levels, in header order.
 *
 * Every opts struct starts with `size_t sz`, which must hold sizeof(struct):
 * libbpf rejects non-zero bytes past the end it knows, so a zero-filled
 * `alloc()` with sz set is the C `LIBBPF_OPTS()` macro. Unnamed bitfields
 * (`__u32 :32`, `size_t :0`) are padding; the natural alignment of the next
 * member, or of the struct, reproduces them.
 *
 * @module
 */
import { i32, ptr, type Struct, struct, u32, u64, u8, union } from "../layout.ts";

/** The headers the layout test includes for this file. */
export const HEADERS: readonly string[] = ["bpf/libbpf.h", "bpf/bpf.h"];

/**
 * libbpf_version.h: the major version of the installed libbpf headers. It
 * describes the headers, not the loaded libbpf.so; call libbpf_major_version()
 * for that.
 */
export const LIBBPF_MAJOR_VERSION = 1;
/** libbpf_version.h: the minor version of the installed headers (libbpf_minor_version() at run time). */
export const LIBBPF_MINOR_VERSION = 1;

/** libbpf error (returned negated): libelf failed. */
export const LIBBPF_ERRNO__LIBELF = 4000;
/** libbpf error: the BPF object's format is invalid. */
export const LIBBPF_ERRNO__FORMAT = 4001;
/** libbpf error: incorrect or missing 'version' section. */
export const LIBBPF_ERRNO__KVERSION = 4002;
/** libbpf error: endianness mismatch. */
export const LIBBPF_ERRNO__ENDIAN = 4003;
/** libbpf error: internal error in libbpf. */
export const LIBBPF_ERRNO__INTERNAL = 4004;
/** libbpf error: relocation failed. */
export const LIBBPF_ERRNO__RELOC = 4005;
/** libbpf error: program load failed for an unknown reason. */
export const LIBBPF_ERRNO__LOAD = 4006;
/** libbpf error: the kernel verifier rejected the program. */
export const LIBBPF_ERRNO__VERIFY = 4007;
/** libbpf error: the program is too big. */
export const LIBBPF_ERRNO__PROG2BIG = 4008;
/** libbpf error: incorrect kernel version. */
export const LIBBPF_ERRNO__KVER = 4009;
/** libbpf error: the kernel doesn't support this program type. */
export const LIBBPF_ERRNO__PROGTYPE = 4010;
/** libbpf error: wrong pid in a netlink message. */
export const LIBBPF_ERRNO__WRNGPID = 4011;
/** libbpf error: invalid netlink sequence. */
export const LIBBPF_ERRNO__INVSEQ = 4012;
/** libbpf error: netlink parsing error. */
export const LIBBPF_ERRNO__NLPARSE = 4013;

/** enum libbpf_print_level: warnings (the print callback's level argument). */
export const LIBBPF_WARN = 0;
/** libbpf print level: information. */
export const LIBBPF_INFO = 1;
/** libbpf print level: debug output, including verifier logs. */
export const LIBBPF_DEBUG = 2;

/**
 * struct bpf_object_open_opts: options of bpf_object__open_file/open_mem (80
 * bytes). The unnamed `__u32 :32` at offset 32 stubs out the removed attach_prog_fd.
 */
export const bpf_object_open_opts: Struct = struct("bpf_object_open_opts", [
  ["sz", u64],
  ["object_name", ptr],
  ["relaxed_maps", u8],
  ["pin_root_path", ptr],
  ["", u32],
  ["kconfig", ptr],
  ["btf_custom_path", ptr],
  ["kernel_log_buf", ptr],
  ["kernel_log_size", u64],
  ["kernel_log_level", u32],
]);

/**
 * struct bpf_link_create_opts: options of bpf_link_create (64 bytes). For an
 * XDP link, flags holds one XDP_FLAGS_*_MODE bit (or 0: the driver's mode
 * when it has one, else generic).
 */
export const bpf_link_create_opts: Struct = struct("bpf_link_create_opts", [
  ["sz", u64],
  ["flags", u32],
  ["iter_info", ptr],
  ["iter_info_len", u32],
  ["target_btf_id", u32],
  ["", union("", [
    ["perf_event", struct("", [["bpf_cookie", u64]])],
    ["kprobe_multi", struct("", [
      ["flags", u32],
      ["cnt", u32],
      ["syms", ptr],
      ["addrs", ptr],
      ["cookies", ptr],
    ])],
    ["tracing", struct("", [["cookie", u64]])],
  ])],
]);

/** struct bpf_link_update_opts: options of bpf_link_update (16 bytes); old_prog_fd with BPF_F_REPLACE. */
export const bpf_link_update_opts: Struct = struct("bpf_link_update_opts", [
  ["sz", u64],
  ["flags", u32],
  ["old_prog_fd", u32],
]);

/** struct bpf_xdp_attach_opts: options of bpf_xdp_attach/bpf_xdp_detach (16 bytes). */
export const bpf_xdp_attach_opts: Struct = struct("bpf_xdp_attach_opts", [
  ["sz", u64],
  ["old_prog_fd", i32],
]);

/** struct bpf_xdp_query_opts: results of bpf_xdp_query (32 bytes); attach_mode is XDP_ATTACHED_*. */
export const bpf_xdp_query_opts: Struct = struct("bpf_xdp_query_opts", [
  ["sz", u64],
  ["prog_id", u32],
  ["drv_prog_id", u32],
  ["hw_prog_id", u32],
  ["skb_prog_id", u32],
  ["attach_mode", u8],
]);

/**
 * struct bpf_uprobe_opts: options of bpf_program__attach_uprobe_opts (40
 * bytes). func_name names the function to probe (its offset is looked up in
 * the binary's ELF symbols); retprobe probes its returns instead.
 */
export const bpf_uprobe_opts: Struct = struct("bpf_uprobe_opts", [
  ["sz", u64],
  ["ref_ctr_offset", u64],
  ["bpf_cookie", u64],
  ["retprobe", u8],
  ["func_name", ptr],
]);

/** struct ring_buffer_opts: options of ring_buffer__new (only sz so far). */
export const ring_buffer_opts: Struct = struct("ring_buffer_opts", [["sz", u64]]);

/** struct bpf_map_create_opts: options of bpf_map_create (48 bytes). */
export const bpf_map_create_opts: Struct = struct("bpf_map_create_opts", [
  ["sz", u64],
  ["btf_fd", u32],
  ["btf_key_type_id", u32],
  ["btf_value_type_id", u32],
  ["btf_vmlinux_value_type_id", u32],
  ["inner_map_fd", u32],
  ["map_flags", u32],
  ["map_extra", u64],
  ["numa_node", u32],
  ["map_ifindex", u32],
]);

/**
 * struct bpf_prog_load_opts: options of bpf_prog_load (104 bytes). log_buf
 * must stay alive until the call returns; the verifier log is written there.
 */
export const bpf_prog_load_opts: Struct = struct("bpf_prog_load_opts", [
  ["sz", u64],
  ["attempts", i32],
  ["expected_attach_type", u32],
  ["prog_btf_fd", u32],
  ["prog_flags", u32],
  ["prog_ifindex", u32],
  ["kern_version", u32],
  ["attach_btf_id", u32],
  ["attach_prog_fd", u32],
  ["attach_btf_obj_fd", u32],
  ["fd_array", ptr],
  ["func_info", ptr],
  ["func_info_cnt", u32],
  ["func_info_rec_size", u32],
  ["line_info", ptr],
  ["line_info_cnt", u32],
  ["line_info_rec_size", u32],
  ["log_level", u32],
  ["log_size", u32],
  ["log_buf", ptr],
]);

/** The verifier log size libbpf recommends (UINT32_MAX >> 8, the limit of kernels up to 5.1). */
export const BPF_LOG_BUF_SIZE = 0xffffff;

/** struct bpf_btf_load_opts: options of bpf_btf_load (24 bytes). */
export const bpf_btf_load_opts: Struct = struct("bpf_btf_load_opts", [
  ["sz", u64],
  ["log_buf", ptr],
  ["log_level", u32],
  ["log_size", u32],
]);

/** struct bpf_map_batch_opts: options of the bpf_map_*_batch calls (24 bytes); elem_flags: BPF_F_LOCK. */
export const bpf_map_batch_opts: Struct = struct("bpf_map_batch_opts", [
  ["sz", u64],
  ["elem_flags", u64],
  ["flags", u64],
]);

/**
 * struct bpf_test_run_opts: arguments and results of bpf_prog_test_run_opts
 * (BPF_PROG_RUN; 80 bytes). For XDP live frames set flags to
 * BPF_F_TEST_XDP_LIVE_FRAMES, repeat and batch_size.
 */
export const bpf_test_run_opts: Struct = struct("bpf_test_run_opts", [
  ["sz", u64],
  ["data_in", ptr],
  ["data_out", ptr],
  ["data_size_in", u32],
  ["data_size_out", u32],
  ["ctx_in", ptr],
  ["ctx_out", ptr],
  ["ctx_size_in", u32],
  ["ctx_size_out", u32],
  ["retval", u32],
  ["repeat", i32],
  ["duration", u32],
  ["flags", u32],
  ["cpu", u32],
  ["batch_size", u32],
]);


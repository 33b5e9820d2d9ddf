/**
 * libbpf.so.1: the symbol table.
 *
 * The bpf() system call is reached through libbpf's fixed-argument `bpf_*`
 * wrappers; objects, programs, maps and links through its `bpf_object__*`,
 * `bpf_program__*`, `bpf_map__*` and `bpf_link__*` API. Options structs are
 * declared in `structs/libbpf.ts`.
 *
 * @module
 */
import type { LibrarySpec } from "./library.ts";

/** libbpf's symbols, each with its C prototype. */
export const libbpfSymbols = {
  /** __u32 libbpf_major_version(void); */
  libbpf_major_version: { args: [], returns: "u32" },
  /** __u32 libbpf_minor_version(void); */
  libbpf_minor_version: { args: [], returns: "u32" },
  /** const char *libbpf_version_string(void); */
  libbpf_version_string: { args: [], returns: "ptr" },
  /** int libbpf_num_possible_cpus(void); */
  libbpf_num_possible_cpus: { args: [], returns: "i32" },
  /** int libbpf_strerror(int err, char *buf, size_t size); */
  libbpf_strerror: { args: ["i32", "buffer", "usize"], returns: "i32" },
  /** int libbpf_probe_bpf_prog_type(enum bpf_prog_type prog_type, const void *opts); */
  libbpf_probe_bpf_prog_type: { args: ["u32", "ptr"], returns: "i32" },
  /** int libbpf_probe_bpf_map_type(enum bpf_map_type map_type, const void *opts); */
  libbpf_probe_bpf_map_type: { args: ["u32", "ptr"], returns: "i32" },
  /**
   * int bpf_prog_load(enum bpf_prog_type prog_type, const char *prog_name, const char *license,
   *                   const struct bpf_insn *insns, size_t insn_cnt, struct bpf_prog_load_opts *opts);
   */
  bpf_prog_load: { args: ["u32", "buffer", "buffer", "buffer", "usize", "buffer"], returns: "i32" },
  /** int bpf_map_create(enum bpf_map_type map_type, const char *map_name, __u32 key_size, __u32 value_size, __u32 max_entries, const struct bpf_map_create_opts *opts); */
  bpf_map_create: { args: ["u32", "buffer", "u32", "u32", "u32", "buffer"], returns: "i32" },
  /** int bpf_map_lookup_elem(int fd, const void *key, void *value); */
  bpf_map_lookup_elem: { args: ["i32", "buffer", "buffer"], returns: "i32" },
  /** int bpf_map_lookup_elem_flags(int fd, const void *key, void *value, __u64 flags); */
  bpf_map_lookup_elem_flags: { args: ["i32", "buffer", "buffer", "u64"], returns: "i32" },
  /** int bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags); */
  bpf_map_update_elem: { args: ["i32", "buffer", "buffer", "u64"], returns: "i32" },
  /** int bpf_map_delete_elem(int fd, const void *key); */
  bpf_map_delete_elem: { args: ["i32", "buffer"], returns: "i32" },
  /** int bpf_map_get_next_key(int fd, const void *key, void *next_key); */
  bpf_map_get_next_key: { args: ["i32", "buffer", "buffer"], returns: "i32" },
  /** int bpf_obj_pin(int fd, const char *pathname); */
  bpf_obj_pin: { args: ["i32", "buffer"], returns: "i32" },
  /** int bpf_obj_get(const char *pathname); */
  bpf_obj_get: { args: ["buffer"], returns: "i32" },
  /** int bpf_obj_get_info_by_fd(int bpf_fd, void *info, __u32 *info_len); */
  bpf_obj_get_info_by_fd: { args: ["i32", "buffer", "buffer"], returns: "i32" },
  /** struct bpf_object *bpf_object__open_file(const char *path, const struct bpf_object_open_opts *opts); */
  "bpf_object__open_file": { args: ["buffer", "buffer"], returns: "ptr" },
  /** struct bpf_object *bpf_object__open_mem(const void *obj_buf, size_t obj_buf_sz, const struct bpf_object_open_opts *opts); */
  "bpf_object__open_mem": { args: ["buffer", "usize", "buffer"], returns: "ptr" },
  /** int bpf_object__load(struct bpf_object *obj); */
  "bpf_object__load": { args: ["ptr"], returns: "i32" },
  /** void bpf_object__close(struct bpf_object *obj); */
  "bpf_object__close": { args: ["ptr"], returns: "void" },
  /** struct bpf_program *bpf_object__next_program(const struct bpf_object *obj, struct bpf_program *prog); */
  "bpf_object__next_program": { args: ["ptr", "ptr"], returns: "ptr" },
  /** struct bpf_map *bpf_object__next_map(const struct bpf_object *obj, const struct bpf_map *map); */
  "bpf_object__next_map": { args: ["ptr", "ptr"], returns: "ptr" },
  /** const char *bpf_program__name(const struct bpf_program *prog); */
  "bpf_program__name": { args: ["ptr"], returns: "ptr" },
  /** int bpf_program__fd(const struct bpf_program *prog); */
  "bpf_program__fd": { args: ["ptr"], returns: "i32" },
  /** int bpf_program__set_log_buf(struct bpf_program *prog, char *log_buf, size_t log_size); */
  "bpf_program__set_log_buf": { args: ["ptr", "ptr", "usize"], returns: "i32" },
  /** int bpf_program__set_log_level(struct bpf_program *prog, __u32 log_level); */
  "bpf_program__set_log_level": { args: ["ptr", "u32"], returns: "i32" },
  /** struct bpf_link *bpf_program__attach_xdp(const struct bpf_program *prog, int ifindex); */
  "bpf_program__attach_xdp": { args: ["ptr", "i32"], returns: "ptr" },
  /** const char *bpf_map__name(const struct bpf_map *map); */
  "bpf_map__name": { args: ["ptr"], returns: "ptr" },
  /** int bpf_map__fd(const struct bpf_map *map); */
  "bpf_map__fd": { args: ["ptr"], returns: "i32" },
  /** int bpf_link__fd(const struct bpf_link *link); */
  "bpf_link__fd": { args: ["ptr"], returns: "i32" },
  /** int bpf_link__pin(struct bpf_link *link, const char *path); */
  "bpf_link__pin": { args: ["ptr", "buffer"], returns: "i32" },
  /** int bpf_link__destroy(struct bpf_link *link); */
  "bpf_link__destroy": { args: ["ptr"], returns: "i32" },
  /** long libbpf_get_error(const void *ptr); */
  libbpf_get_error: { args: ["ptr"], returns: "i64" },
  /** int bpf_xdp_attach(int ifindex, int prog_fd, __u32 flags, const struct bpf_xdp_attach_opts *opts); */
  bpf_xdp_attach: { args: ["i32", "i32", "u32", "buffer"], returns: "i32" },
  /** int bpf_xdp_detach(int ifindex, __u32 flags, const struct bpf_xdp_attach_opts *opts); */
  bpf_xdp_detach: { args: ["i32", "u32", "buffer"], returns: "i32" },
  /** int bpf_xdp_query(int ifindex, int flags, struct bpf_xdp_query_opts *opts); */
  bpf_xdp_query: { args: ["i32", "i32", "buffer"], returns: "i32" },
  /** int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, __u32 *count, const struct bpf_map_batch_opts *opts); */
  bpf_map_lookup_batch: { args: ["i32", "buffer", "buffer", "buffer", "buffer", "buffer", "buffer"], returns: "i32" },
  /** int bpf_map_update_batch(int fd, const void *keys, const void *values, __u32 *count, const struct bpf_map_batch_opts *opts); */
  bpf_map_update_batch: { args: ["i32", "buffer", "buffer", "buffer", "buffer"], returns: "i32" },
  /** int bpf_map_delete_batch(int fd, const void *keys, __u32 *count, const struct bpf_map_batch_opts *opts); */
  bpf_map_delete_batch: { args: ["i32", "buffer", "buffer", "buffer"], returns: "i32" },
  /** int bpf_map_get_next_id(__u32 start_id, __u32 *next_id); */
  bpf_map_get_next_id: { args: ["u32", "buffer"], returns: "i32" },
  /** int bpf_map_get_fd_by_id(__u32 id); */
  bpf_map_get_fd_by_id: { args: ["u32"], returns: "i32" },
  /** int bpf_prog_get_fd_by_id(__u32 id); */
  bpf_prog_get_fd_by_id: { args: ["u32"], returns: "i32" },
  /** int bpf_link_get_fd_by_id(__u32 id); */
  bpf_link_get_fd_by_id: { args: ["u32"], returns: "i32" },
  /** int bpf_link_get_next_id(__u32 start_id, __u32 *next_id); */
  bpf_link_get_next_id: { args: ["u32", "buffer"], returns: "i32" },
  /** int bpf_link_create(int prog_fd, int target_fd, enum bpf_attach_type attach_type, const struct bpf_link_create_opts *opts); */
  bpf_link_create: { args: ["i32", "i32", "u32", "buffer"], returns: "i32" },
  /** int bpf_link_update(int link_fd, int new_prog_fd, const struct bpf_link_update_opts *opts); */
  bpf_link_update: { args: ["i32", "i32", "buffer"], returns: "i32" },
  /** int bpf_link_detach(int link_fd); */
  bpf_link_detach: { args: ["i32"], returns: "i32" },
  /** int bpf_prog_test_run_opts(int prog_fd, struct bpf_test_run_opts *opts); */
  bpf_prog_test_run_opts: { args: ["i32", "buffer"], returns: "i32" },
  /** struct bpf_program *bpf_object__find_program_by_name(const struct bpf_object *obj, const char *name); */
  "bpf_object__find_program_by_name": { args: ["ptr", "buffer"], returns: "ptr" },
  /** struct bpf_map *bpf_object__find_map_by_name(const struct bpf_object *obj, const char *name); */
  "bpf_object__find_map_by_name": { args: ["ptr", "buffer"], returns: "ptr" },
  /** const char *bpf_object__name(const struct bpf_object *obj); */
  "bpf_object__name": { args: ["ptr"], returns: "ptr" },
  /** enum bpf_prog_type bpf_program__type(const struct bpf_program *prog); */
  "bpf_program__type": { args: ["ptr"], returns: "u32" },
  /** const char *bpf_program__section_name(const struct bpf_program *prog); */
  "bpf_program__section_name": { args: ["ptr"], returns: "ptr" },
  /** enum bpf_map_type bpf_map__type(const struct bpf_map *map); */
  "bpf_map__type": { args: ["ptr"], returns: "u32" },
  /** __u32 bpf_map__key_size(const struct bpf_map *map); */
  "bpf_map__key_size": { args: ["ptr"], returns: "u32" },
  /** __u32 bpf_map__value_size(const struct bpf_map *map); */
  "bpf_map__value_size": { args: ["ptr"], returns: "u32" },
  /** bool bpf_map__is_internal(const struct bpf_map *map); */
  "bpf_map__is_internal": { args: ["ptr"], returns: "bool" },
  /** int bpf_map__set_pin_path(struct bpf_map *map, const char *path); */
  "bpf_map__set_pin_path": { args: ["ptr", "buffer"], returns: "i32" },
  /** bool bpf_map__is_pinned(const struct bpf_map *map); */
  "bpf_map__is_pinned": { args: ["ptr"], returns: "bool" },
  /** enum bpf_attach_type bpf_program__expected_attach_type(const struct bpf_program *prog); */
  "bpf_program__expected_attach_type": { args: ["ptr"], returns: "u32" },
  /**
   * int bpf_program__set_attach_target(struct bpf_program *prog, int attach_prog_fd,
   *                                    const char *attach_func_name);
   * Before load: the kernel function (fentry/fexit/tp_btf) a tracing program is verified against.
   */
  "bpf_program__set_attach_target": { args: ["ptr", "i32", "buffer"], returns: "i32" },
  /**
   * struct bpf_link *bpf_program__attach_tracepoint(const struct bpf_program *prog,
   *                                                 const char *tp_category, const char *tp_name);
   */
  "bpf_program__attach_tracepoint": { args: ["ptr", "buffer", "buffer"], returns: "ptr" },
  /** struct bpf_link *bpf_program__attach_raw_tracepoint(const struct bpf_program *prog, const char *tp_name); */
  "bpf_program__attach_raw_tracepoint": { args: ["ptr", "buffer"], returns: "ptr" },
  /** struct bpf_link *bpf_program__attach_trace(const struct bpf_program *prog); fentry, fexit, fmod_ret, tp_btf */
  "bpf_program__attach_trace": { args: ["ptr"], returns: "ptr" },
  /** struct bpf_link *bpf_program__attach_kprobe(const struct bpf_program *prog, bool retprobe, const char *func_name); */
  "bpf_program__attach_kprobe": { args: ["ptr", "bool", "buffer"], returns: "ptr" },
  /**
   * struct bpf_link *bpf_program__attach_uprobe_opts(const struct bpf_program *prog, pid_t pid,
   *     const char *binary_path, size_t func_offset, const struct bpf_uprobe_opts *opts);
   * pid: -1 for every process; func_offset 0 with opts->func_name set: the function's entry.
   */
  "bpf_program__attach_uprobe_opts": { args: ["ptr", "i32", "buffer", "usize", "buffer"], returns: "ptr" },
  /** struct btf *btf__load_vmlinux_btf(void); */
  "btf__load_vmlinux_btf": { args: [], returns: "ptr" },
  /** struct btf *btf__parse_split(const char *path, struct btf *base_btf); a module's BTF over vmlinux's */
  "btf__parse_split": { args: ["buffer", "ptr"], returns: "ptr" },
  /** __s32 btf__find_by_name_kind(const struct btf *btf, const char *type_name, __u32 kind); -ENOENT when absent */
  "btf__find_by_name_kind": { args: ["ptr", "buffer", "u32"], returns: "i32" },
  /** void btf__free(struct btf *btf); */
  "btf__free": { args: ["ptr"], returns: "void" },
} as const;

/** How to find libbpf. */
export const libbpfSpec: LibrarySpec<typeof libbpfSymbols> = {
  name: "libbpf",
  candidates: ["libbpf.so.1"],
  env: "KERNELKIT_LIBBPF",
  package: "libbpf1",
  symbols: libbpfSymbols,
};

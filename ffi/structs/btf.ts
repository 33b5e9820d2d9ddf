/**
 * `<linux/btf.h>`: the BTF type kinds kernelkit looks kernel types up by
 * (btf__find_by_name_kind), in header order.
 *
 * @module
 */

/** The headers the layout test includes for this file. */
export const HEADERS: readonly string[] = ["linux/btf.h"];

/** BTF kind: a struct. */
export const BTF_KIND_STRUCT = 4;
/** BTF kind: a typedef. A tracepoint's BTF-typed form is the typedef `btf_trace_<name>`. */
export const BTF_KIND_TYPEDEF = 8;
/** BTF kind: a function: what fentry and fexit attach to. */
export const BTF_KIND_FUNC = 12;

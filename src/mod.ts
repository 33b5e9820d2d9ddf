/**
 * kernelkit: the Linux kernel's CPU-saving fast paths for Deno and Bun.
 *
 * io_uring rings, zero-copy transfer, eBPF and XDP, and huge pages, from
 * TypeScript over FFI, with no compiled addon.
 *
 * @module
 */
export { doctor, type DoctorReport, type DoctorRow } from "./system/doctor.ts";
export { errnoName, errnoText, errnoValue, KernelError, type KernelErrorInit, notSupported } from "./errors.ts";
export { BpfObject, type BpfObjectOptions } from "./bpf/object.ts";
export { BpfProgram, type ProgramHandle, type ProgramInfo, type RunOptions, type RunResult } from "./bpf/program.ts";
export { BpfLink, type LinkKind } from "./bpf/link.ts";
export type { KprobeOptions, UprobeOptions } from "./bpf/attach.ts";
export { ensureTracefs, kprobesMissing, TRACEFS_ROOT, uprobesMissing } from "./bpf/tracefs.ts";
export { kernelFunctionExists } from "./bpf/btf.ts";
export { trampolinesMissing } from "./bpf/probe.ts";
export {
  type RecordDecoder,
  RingBuffer,
  type RingBufferOptions,
  type RingBufferStats,
  type RunBatchOptions,
  type WaitOptions,
} from "./bpf/ringbuf.ts";
export { type SyscallCount, SysCount, type SysCountOptions } from "./bpf/syscount.ts";
export { decodeOpenEvent, type OpenEvent, OpenSnoop, type OpenSnoopOptions } from "./bpf/opensnoop.ts";
export { syscallName, syscallNumber } from "./system/syscalls.ts";
export {
  BpfMap,
  type MapCodecs,
  type MapInfo,
  type MapUpdateFlag,
  perCpuValue,
  possibleCpus,
} from "./bpf/map.ts";
export { type Codec, codec, type StructValue, sum, type Summable } from "./bpf/codec.ts";
export { type Cidr, cidr4, cidr6, cidrContains, formatAddress, formatCidr, parseCidr } from "./bpf/cidr.ts";
export {
  attachXdp,
  type AttachableProgram,
  queryXdp,
  type XdpAttachment,
  type XdpAttachMode,
  type XdpAttachOptions,
  XdpLink,
  type XdpMode,
  type XdpQueryResult,
  xdp,
} from "./bpf/xdp.ts";
export {
  type BlockedRange,
  type Counter,
  FIREWALL_REASONS,
  type FirewallOptions,
  type FirewallReason,
  type FirewallStats,
  XdpFirewall,
} from "./bpf/firewall.ts";
export { flood, type FloodMethod, type FloodOptions, type FloodResult } from "./bpf/flood.ts";
export { BPFFS_ROOT, bpffsMounted, ensureBpffs, pinDirFor } from "./bpf/pin.ts";
export { interfaceByName, interfaceName, interfaceNames, type NetInterface, networkNamespace } from "./net/interfaces.ts";
export { internetChecksum, udpFrame, type UdpFrameOptions } from "./net/frames.ts";
export {
  type Completion,
  type OpOptions,
  type RingCore,
  type RingOptions,
  type RingStats,
  type StreamHandler,
} from "./uring/core.ts";
export { type Prep, type PrepContext } from "./uring/prep.ts";
// The struct-layout types that BPF codecs (`codec.struct`) take: types only.
export type {
  ArrayType,
  Field,
  Member,
  Reader,
  RecordOptions,
  ScalarKind,
  ScalarType,
  Struct,
  Type,
  Writer,
} from "../ffi/layout.ts";
export { CWD, type OpenHow, Ring, type TimeoutOptions } from "./uring/ring.ts";
export { type Statx } from "./uring/statx.ts";
export { type OpcodeSupport } from "./uring/probe.ts";
export {
  type Advice,
  ADVICE_NAMES,
  FileMapping,
  type FileMappingInit,
  mapFile,
  type MapFileOptions,
  mapMemory,
  type MapMemoryOptions,
  Mapping,
  type MappingInit,
  type PageBacking,
  type RegionState,
  type Residency,
} from "./memory/mod.ts";
export {
  type HugePageNodeCounts,
  type HugePagePool,
  type HugePageReservation,
  type HugePages,
  hugePages,
  type HugePagesStatus,
  type PageSizeInput,
  pageSizeName,
  parseSize,
  persistentPoolSetting,
  type PersistentPoolSetting,
  type PoolWriteOptions,
} from "./system/hugepages.ts";
export {
  type Thp,
  thp,
  type ThpChange,
  type ThpDefrag,
  type ThpEnabled,
  type ThpSetResult,
  type ThpSettings,
  type ThpStatus,
} from "./system/thp.ts";
export { BufferPool, type BufferPoolOptions } from "./uring/buffers.ts";
export { type FileOptions, readFile, writeFile } from "./uring/files.ts";
export { ProvidedBuffers, type ProvidedBuffersOptions } from "./uring/bufring.ts";
export { formatIp, type IpAddress, parseIp } from "./net/address.ts";
export { connect, type ConnectOptions, listen, type ListenOptions, TcpListener, TcpSocket } from "./net/socket.ts";
export * from "./zerocopy/mod.ts";
export { closeFd, pread, pwrite, read, write } from "./system/io.ts";
export { serveStatic, type ServeStaticOptions, type StaticServer } from "./http/server.ts";
export { parseRequestHead, type ParseOptions, type ParseResult, type RequestHead } from "./http/request.ts";

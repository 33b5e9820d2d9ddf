import assert from "node:assert/strict";
import { join } from "node:path";
import process from "node:process";
import { guardFile, skipUnless, skipUnlessPermitted, test } from "./harness.ts";
import { throwsCode } from "./support/kernel_error.ts";
import { eventually, getppid, linkExists, notRoot, startChild } from "./support/trace.ts";
import {
  BpfMap,
  BpfObject,
  codec,
  kprobesMissing,
  syscallNumber,
  trampolinesMissing,
} from "../src/mod.ts";

guardFile();

const repo = new URL("..", import.meta.url).pathname;
const probeObject = join(repo, "tests/fixtures/trace_probe.bpf.o");
const fentryObject = join(repo, "tests/fixtures/trace_fentry.bpf.o");
const GETPPID = syscallNumber("getppid")!;

/** The slots of `counts` in the fixtures (enum kk_hook). */
const HOOK = { fentry: 0, fexit: 1, rawTp: 2, tpBtf: 3, tracepoint: 4, kprobe: 5, uprobe: 6, uretprobe: 7, fentryAny: 8 };

/** Points a loaded fixture at this process and getppid; returns a reader of its counters. */
function aim(object: BpfObject): (hook: number) => number {
  object.map("target", { key: codec.u32, value: codec.u64 }).set(0, process.pid + GETPPID * 2 ** 32);
  const counts = object.map("counts", { key: codec.u32, value: codec.u64 });
  return (hook) => counts.get(hook) ?? 0;
}

skipUnless(
  notRoot,
  "trace attach: raw tracepoint, tp_btf, tracepoint and uprobes count the test's getppid calls; close detaches each",
  () => {
    using object = BpfObject.open(probeObject).load();
    const count = aim(object);
    const links = [
      object.program("kk_raw_tp").attachRawTracepoint("sys_enter"),
      object.program("kk_tp_btf").attachTpBtf(),
      object.program("kk_tracepoint").attachTracepoint("syscalls", "sys_enter_getppid"),
      object.program("kk_uprobe").attachUprobe("libc.so.6", "getppid", { pid: process.pid }),
      object.program("kk_uretprobe").attachUprobe("libc.so.6", "getppid", { retprobe: true }),
    ];
    assert.deepEqual(links.map((l) => l.kind), ["raw_tracepoint", "tp_btf", "tracepoint", "uprobe", "uretprobe"]);
    assert.equal(links[1].target, "sys_enter");
    assert.equal(links[2].target, "syscalls:sys_enter_getppid");
    assert.match(links[3].target, /\/libc\.so\.6:getppid \(pid \d+\)$/);
    for (const l of links) assert.ok(l.id !== undefined && linkExists(l.id), `${l.kind} has no link id`);

    const N = 2000;
    getppid(N);
    for (const hook of [HOOK.rawTp, HOOK.tpBtf, HOOK.tracepoint, HOOK.uprobe, HOOK.uretprobe]) {
      const n = count(hook);
      // Exactly N, unless the runtime itself called getppid meanwhile.
      assert.ok(n >= N && n <= N + 20, `hook ${hook} counted ${n} of ${N}`);
    }
    const before = [HOOK.rawTp, HOOK.tpBtf, HOOK.tracepoint, HOOK.uprobe, HOOK.uretprobe].map(count);
    for (const l of links) {
      l.close();
      l.close();
      assert.equal(linkExists(l.id!), false, `${l.kind} link ${l.id} still exists after close`);
      throwsCode(() => l.fd, "EBADF", /closed/);
    }
    getppid(N);
    assert.deepEqual([HOOK.rawTp, HOOK.tpBtf, HOOK.tracepoint, HOOK.uprobe, HOOK.uretprobe].map(count), before);
  },
);

skipUnless(notRoot, "trace attach: attachKprobe without CONFIG_KPROBES is ENOTSUP naming it and suggesting fentry", () => {
  using object = BpfObject.open(probeObject).load();
  const kprobe = object.program("kk_kprobe");
  const missing = kprobesMissing();
  if (missing === null) {
    // A kernel with kprobes: the working path.
    const count = aim(object);
    using link = kprobe.attachKprobe("__x64_sys_getppid");
    getppid(100);
    assert.ok(count(HOOK.kprobe) >= 100, link.target);
    return;
  }
  assert.match(missing, /CONFIG_KPROBES/);
  const e = throwsCode(() => kprobe.attachKprobe("__x64_sys_getppid"), "ENOTSUP", /CONFIG_KPROBES/);
  assert.equal(e.syscall, "bpf_program__attach_kprobe");
  assert.equal(e.feature, "kprobes (CONFIG_KPROBES)");
  // The suggestion names a fentry target that exists: __x64_sys_getppid is an alias BTF doesn't list.
  assert.match(e.hint ?? "", /fentry\/__do_sys_getppid.*attachFentry/);
  throwsCode(() => kprobe.attachKprobe("__x64_sys_getppid", { retprobe: true }), "ENOTSUP", /CONFIG_KPROBES/);
});

// As root with CAP_BPF and CAP_PERFMON, an EPERM is the host's policy (some
// VMs and sandboxes forbid ftrace direct calls); the test below still proves
// that error is a clear one.
const trampolines = notRoot ? null : trampolinesMissing();
const hostForbidsTrampolines = trampolines !== null && /host policy forbids/.test(trampolines) ? trampolines : null;
skipUnlessPermitted(
  notRoot ?? trampolines,
  hostForbidsTrampolines,
  "fentry/fexit: count the test's getppid calls, see the return value, detach on close",
  () => {
    using object = BpfObject.open(fentryObject).setAttachTarget("kk_fentry_any", "__do_sys_getppid").load();
    const count = aim(object);
    const fentry = object.program("kk_fentry");
    assert.equal(fentry.attachTarget, "__do_sys_getppid");
    const links = [
      fentry.attachFentry(),
      object.program("kk_fexit").attachFexit("__do_sys_getppid"),
      object.program("kk_fentry_any").attachFentry(),
    ];
    const N = 1000;
    const ppid = getppid(N);
    for (const hook of [HOOK.fentry, HOOK.fexit, HOOK.fentryAny]) {
      const n = count(hook);
      assert.ok(n >= N && n <= N + 20, `hook ${hook} counted ${n}`);
    }
    assert.equal(object.map("last_ret", { key: codec.u32, value: codec.u64 }).get(0), ppid);
    // A loaded program stays with the function it was verified against.
    throwsCode(() => fentry.attachFentry("__do_sys_getpid"), "EINVAL", /setAttachTarget/);
    for (const l of links) l.close();
    const before = count(HOOK.fentry);
    getppid(N);
    assert.equal(count(HOOK.fentry), before);
  },
);

skipUnless(notRoot, "fentry: a kernel that refuses BPF trampolines is a clear error naming what works instead", () => {
  const why = trampolinesMissing();
  if (why === null) return; // fentry loads here: the test above covers it.
  using object = BpfObject.open(fentryObject);
  const e = throwsCode(() => object.load(), "EPERM", /kk_fentry.*refuses BPF trampoline programs/);
  assert.equal(e.feature, "BPF trampolines (fentry/fexit)");
  assert.match(e.hint ?? "", /tp_btf.*raw_tp/);
});

test("bad input: fentry on a kernel function that doesn't exist is ENOENT naming close ones", () => {
  using object = BpfObject.open(fentryObject);
  throwsCode(() => object.setAttachTarget("kk_fentry_any", "kk_no_such_function"), "ENOENT", /no function "kk_no_such_function"/);
  const e = throwsCode(() => object.setAttachTarget("kk_fentry_any", "__x64_sys_getppid"), "ENOENT");
  assert.match(e.hint ?? "", /did you mean "__do_sys_getppid"/);
  throwsCode(() => object.setAttachTarget("kk_no_program", "__do_sys_getppid"), "ENOENT", /no program "kk_no_program"/);
});

skipUnless(notRoot, "bad input: missing tracepoints, symbols and binaries, wrong program types, closed objects", () => {
  const object = BpfObject.open(probeObject).load();
  const tp = object.program("kk_tracepoint");
  throwsCode(() => tp.attachTracepoint("kk_no_such_category", "sys_enter_getppid"), "ENOENT", /no tracepoint category "kk_no_such_category"/);
  const e = throwsCode(() => tp.attachTracepoint("syscalls", "sys_enter_getppidd"), "ENOENT", /"syscalls" has no tracepoint/);
  assert.match(e.hint ?? "", /sys_enter_getppid/);
  throwsCode(() => tp.attachTracepoint("sys calls", "x"), "EINVAL");
  throwsCode(() => object.program("kk_raw_tp").attachRawTracepoint("kk_no_such_tracepoint"), "ENOENT", /no tracepoint named/);
  throwsCode(() => object.program("kk_raw_tp").attachRawTracepoint("syscalls:sys_enter"), "EINVAL", /without its category/);
  throwsCode(() => object.program("kk_tp_btf").attachTpBtf("kk_no_such_tracepoint"), "ENOENT", /no tracepoint "kk_no_such_tracepoint"/);
  throwsCode(() => object.program("kk_tp_btf").attachTpBtf("sched_switch"), "EINVAL", /can't be moved/);
  throwsCode(() => object.program("kk_tp_btf").attachTracepoint("syscalls", "sys_enter_getppid"), "EINVAL", /tp_btf program/);
  throwsCode(() => object.program("kk_raw_tp").attachFentry("__do_sys_getppid"), "EINVAL", /raw_tracepoint program/);
  throwsCode(() => object.program("kk_uprobe").attachUprobe("libc.so.6", "kk_no_such_symbol"), "ENOENT", /has no function "kk_no_such_symbol"/);
  throwsCode(() => object.program("kk_uprobe").attachUprobe("/nonexistent/binary", "main"), "ENOENT", /no binary/);
  throwsCode(() => object.program("kk_uprobe").attachUprobe("libc.so.6", "getppid", { pid: -5 }), "EINVAL");
  const raw = object.program("kk_raw_tp");
  object.close();
  throwsCode(() => raw.attachRawTracepoint("sys_enter"), "EBADF", /closed/);
});

skipUnless(notRoot, "detach on SIGKILL: a killed child's link goes away and its program stops counting", async () => {
  const child = startChild(join(repo, "tests/support/trace_child.ts"), [String(process.pid)]);
  try {
    const m = await child.waitFor(/^(\{.*\})$/m);
    const ids = JSON.parse(m[1]) as { link: number; counts: number };
    assert.ok(linkExists(ids.link));
    // Hold the child's counters: the map outlives the child, the link doesn't.
    using counts = BpfMap.fromId(ids.counts, { key: codec.u32, value: codec.u64 });
    getppid(500);
    const attached = counts.get(HOOK.tpBtf)!;
    assert.ok(attached >= 500, `the child's program counted ${attached}`);
    process.kill(child.process.pid!, "SIGKILL");
    const exit = await child.exited;
    assert.equal(exit.signal, "SIGKILL");
    assert.ok(await eventually(() => !linkExists(ids.link)), `link ${ids.link} outlived its process`);
    getppid(500);
    assert.equal(counts.get(HOOK.tpBtf), attached);
  } finally {
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill("SIGKILL");
  }
});

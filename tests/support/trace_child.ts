/**
 * A child process for the detach tests: loads tests/fixtures/trace_probe.bpf.o,
 * points it at process PID (the parent), attaches its tp_btf program (which
 * counts PID's getppid calls at sys_enter), prints one JSON line with the link
 * and map ids, and waits to be killed.
 *
 *   trace_child.ts PID
 *
 * @module
 */
import process from "node:process";
import { BpfObject, codec, syscallNumber } from "../../src/mod.ts";

const target = Number(process.argv[2]);
const object = BpfObject.open(new URL("../fixtures/trace_probe.bpf.o", import.meta.url).pathname).load();
const settings = object.map("target", { key: codec.u32, value: codec.u64 });
settings.set(0, target + syscallNumber("getppid")! * 2 ** 32);
const link = object.program("kk_tp_btf").attachTpBtf();
const counts = object.map("counts");
console.log(JSON.stringify({ link: link.id, counts: counts.info.id }));
// Keep the link referenced: a collected BpfLink is closed by its finalizer.
setInterval(() => void link.id, 1000);

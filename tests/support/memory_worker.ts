/**
 * Worker for tests/memory.test.ts: maps a shared Mapping's memfd through its
 * path, checks what the main thread wrote, writes its answer, and reports.
 */
import { mapFile } from "../../src/mod.ts";

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<{ path: string }>) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
};

scope.onmessage = (e) => {
  try {
    const m = mapFile(e.data.path, { mode: "rw" });
    const seen = m.bytes[0];
    m.bytes[1] = seen + 1;
    m.bytes[m.size - 1] = 99;
    const size = m.size;
    m.close();
    scope.postMessage({ seen, size });
  } catch (err) {
    scope.postMessage({ error: String(err) });
  }
};

/**
 * Zero-copy transfer: sendfile, splice, tee and copy_file_range, each in a
 * sync form (libc) and an async form driven by the ring.
 *
 * @module
 */
export {
  copyFile,
  type CopyFileOptions,
  copyFileRange,
  copyFileRangeAsync,
  type CopyRangeAsyncOptions,
  type CopyRangeOptions,
  copyFileSync,
} from "./copy.ts";
export { closePipe, defaultPipePool, makePipe, type Pipe, PipePool } from "./pipes.ts";
export { sendfile, sendfileAsync, type SendfileAsyncOptions, type SendfileOptions } from "./sendfile.ts";
export { splice, spliceAsync, type SpliceOptions, tee, teeAsync } from "./splice.ts";

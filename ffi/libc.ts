/**
 * libc.so.6: the symbol table, and errno.
 *
 * Only fixed-argument functions: bun:ffi can't call variadic ones (open, fcntl,
 * ioctl, syscall), so kernelkit uses the fixed-argument wrappers glibc exports
 * and does the rest through io_uring.
 *
 * @module
 */
import type { LibrarySpec, LoadedLibrary } from "./library.ts";
import { runtime } from "./runtime/mod.ts";

/** libc's symbols, each with its C prototype. */
export const libcSymbols = {
  /** int *__errno_location(void); */
  __errno_location: { args: [], returns: "ptr" },
  /** pid_t getpid(void); */
  getpid: { args: [], returns: "i32" },
  /** pid_t getppid(void); one real system call each time (glibc doesn't cache it): the tracing tests' workload */
  getppid: { args: [], returns: "i32" },
  /** uid_t getuid(void); */
  getuid: { args: [], returns: "u32" },
  /** uid_t geteuid(void); */
  geteuid: { args: [], returns: "u32" },
  /** long sysconf(int name); */
  sysconf: { args: ["i32"], returns: "i64" },
  /** int getrlimit(int resource, struct rlimit *rlim); */
  getrlimit: { args: ["i32", "buffer"], returns: "i32" },
  /** int close(int fd); */
  close: { args: ["i32"], returns: "i32" },
  /** ssize_t read(int fd, void *buf, size_t count); */
  read: { args: ["i32", "ptr", "usize"], returns: "isize" },
  /** ssize_t write(int fd, const void *buf, size_t count); */
  write: { args: ["i32", "ptr", "usize"], returns: "isize" },
  /** ssize_t pread64(int fd, void *buf, size_t count, off_t offset); */
  pread64: { args: ["i32", "ptr", "usize", "i64"], returns: "isize" },
  /** ssize_t pwrite64(int fd, const void *buf, size_t count, off_t offset); */
  pwrite64: { args: ["i32", "ptr", "usize", "i64"], returns: "isize" },
  /**
   * int __open64_2(const char *path, int flags);
   * glibc's fortified open(2) without a mode: fixed arguments, so bun:ffi can
   * call it. flags must not contain O_CREAT or O_TMPFILE (glibc aborts).
   */
  __open64_2: { args: ["buffer", "i32"], returns: "i32" },
  /** int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf); */
  statx: { args: ["i32", "buffer", "i32", "u32", "buffer"], returns: "i32" },
  /** int creat(const char *path, mode_t mode); open(path, O_CREAT | O_WRONLY | O_TRUNC, mode) with fixed arguments. */
  creat: { args: ["buffer", "u32"], returns: "i32" },
  /** int ftruncate(int fd, off_t length); */
  ftruncate: { args: ["i32", "i64"], returns: "i32" },
  /** int pipe2(int pipefd[2], int flags); */
  pipe2: { args: ["buffer", "i32"], returns: "i32" },
  /** int eventfd(unsigned int initval, int flags); */
  eventfd: { args: ["u32", "i32"], returns: "i32" },
  /** int memfd_create(const char *name, unsigned int flags); */
  memfd_create: { args: ["buffer", "u32"], returns: "i32" },
  /** void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset); */
  mmap: { args: ["ptr", "usize", "i32", "i32", "i32", "i64"], returns: "ptr" },
  /** int munmap(void *addr, size_t length); */
  munmap: { args: ["ptr", "usize"], returns: "i32" },
  /** int madvise(void *addr, size_t length, int advice); */
  madvise: { args: ["ptr", "usize", "i32"], returns: "i32" },
  /** int mlock(const void *addr, size_t len); */
  mlock: { args: ["ptr", "usize"], returns: "i32" },
  /** int munlock(const void *addr, size_t len); */
  munlock: { args: ["ptr", "usize"], returns: "i32" },
  /** int msync(void *addr, size_t length, int flags); */
  msync: { args: ["ptr", "usize", "i32"], returns: "i32" },
  /** ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count); */
  sendfile: { args: ["i32", "i32", "buffer", "usize"], returns: "isize" },
  /** ssize_t splice(int fd_in, off64_t *off_in, int fd_out, off64_t *off_out, size_t len, unsigned int flags); */
  splice: { args: ["i32", "buffer", "i32", "buffer", "usize", "u32"], returns: "isize" },
  /** ssize_t tee(int fd_in, int fd_out, size_t len, unsigned int flags); */
  tee: { args: ["i32", "i32", "usize", "u32"], returns: "isize" },
  /** ssize_t copy_file_range(int fd_in, off64_t *off_in, int fd_out, off64_t *off_out, size_t len, unsigned int flags); */
  copy_file_range: { args: ["i32", "buffer", "i32", "buffer", "usize", "u32"], returns: "isize" },
  /** int socket(int domain, int type, int protocol); */
  socket: { args: ["i32", "i32", "i32"], returns: "i32" },
  /** int bind(int sockfd, const struct sockaddr *addr, socklen_t addrlen); */
  bind: { args: ["i32", "buffer", "u32"], returns: "i32" },
  /** int listen(int sockfd, int backlog); */
  listen: { args: ["i32", "i32"], returns: "i32" },
  /** int connect(int sockfd, const struct sockaddr *addr, socklen_t addrlen); */
  connect: { args: ["i32", "buffer", "u32"], returns: "i32" },
  /** int setsockopt(int sockfd, int level, int optname, const void *optval, socklen_t optlen); */
  setsockopt: { args: ["i32", "i32", "i32", "buffer", "u32"], returns: "i32" },
  /** int getsockname(int sockfd, struct sockaddr *addr, socklen_t *addrlen); */
  getsockname: { args: ["i32", "buffer", "buffer"], returns: "i32" },
  /** int shutdown(int sockfd, int how); */
  shutdown: { args: ["i32", "i32"], returns: "i32" },
  /** unsigned int if_nametoindex(const char *ifname); */
  if_nametoindex: { args: ["buffer"], returns: "u32" },
  /** char *if_indextoname(unsigned int ifindex, char *ifname); */
  if_indextoname: { args: ["u32", "buffer"], returns: "ptr" },
  /** int sendmmsg(int sockfd, struct mmsghdr *msgvec, unsigned int vlen, int flags); */
  sendmmsg: { args: ["i32", "ptr", "u32", "i32"], returns: "i32" },
  /** int mount(const char *source, const char *target, const char *filesystemtype, unsigned long mountflags, const void *data); */
  mount: { args: ["buffer", "buffer", "buffer", "u64", "ptr"], returns: "i32" },
  /**
   * int fcntl(int fd, int cmd, int arg);
   * fcntl is variadic, which bun:ffi can't declare. Bound with one int
   * argument it is called exactly as the variadic form on x86-64 and aarch64
   * Linux (integer varargs travel in the same registers); used only for
   * integer commands such as F_SETPIPE_SZ and F_GETFL.
   */
  fcntl: { args: ["i32", "i32", "i32"], returns: "i32" },
  /**
   * int ioctl(int fd, unsigned long request, int arg);
   * Variadic like fcntl, and bound the same way, for requests that take an
   * int (FICLONE). The request travels as a u32: the kernel's ioctl takes an
   * unsigned int command, and every request kernelkit uses fits.
   */
  ioctl: { args: ["i32", "u32", "i32"], returns: "i32" },
  /** int poll(struct pollfd *fds, nfds_t nfds, int timeout); */
  poll: { args: ["buffer", "u64", "i32"], returns: "i32" },
  /** const char *gnu_get_libc_version(void); */
  gnu_get_libc_version: { args: [], returns: "ptr" },
} as const;

/** How to find libc. */
export const libcSpec: LibrarySpec<typeof libcSymbols> = {
  name: "libc",
  candidates: ["libc.so.6"],
  env: "KERNELKIT_LIBC",
  package: "libc6",
  symbols: libcSymbols,
};

/** The opened libc. */
export type Libc = LoadedLibrary<typeof libcSymbols>;

/**
 * A reader of the calling thread's errno for an opened libc. Call it right
 * after the failing call: the cell is the thread's own, found once through
 * __errno_location.
 */
export function errnoReader(libc: Libc): () => number {
  const cell = new Int32Array(runtime().view(libc.symbols.__errno_location(), 4));
  return () => cell[0];
}

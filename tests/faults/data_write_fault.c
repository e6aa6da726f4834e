/* data_write_fault: an LD_PRELOAD shim that makes write(2)-family calls on
 * regular files fail while the libfiu failure point "normbase/data/write" is
 * enabled, with errno from the point's failinfo (default EIO; 28 is ENOSPC).
 *
 * Why not libfiu's own posix/io/rw/write: it fails every write(), including
 * the eventfd and pipe writes that ZeroMQ and Asio use to wake their threads
 * (ZeroMQ aborts on those), so it tests the event loops, not the storage.
 * Only regular files hold data; NB_DATA_WRITE_FAULT_MATCH narrows it to paths
 * containing a string. Load it after /usr/lib/fiu/fiu_run_preload.so,
 * which initialises libfiu and its remote control (FIU_CTRL_FIFO), so that
 * `fiu-ctrl -c "enable name=normbase/data/write" PID` switches it on and off. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fiu.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* Only files whose path contains $NB_DATA_WRITE_FAULT_MATCH, when set (e.g.
 * ".log": RocksDB's write-ahead logs, not its info LOG). */
static int Matches(int fd) {
  const char* want = getenv("NB_DATA_WRITE_FAULT_MATCH");
  char link[64], path[4096];
  ssize_t n;
  if (!want || !*want) return 1;
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return 0;
  path[n] = '\0';
  return strstr(path, want) != NULL;
}

static int Fail(int fd) {
  struct stat st;
  if (!fiu_fail("normbase/data/write")) return 0;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !Matches(fd)) return 0;
  intptr_t info = (intptr_t)fiu_failinfo();
  errno = info > 0 ? (int)info : EIO;
  return 1;
}

typedef ssize_t (*WriteFn)(int, const void*, size_t);
typedef ssize_t (*PwriteFn)(int, const void*, size_t, off_t);
typedef ssize_t (*WritevFn)(int, const struct iovec*, int);
typedef ssize_t (*PwritevFn)(int, const struct iovec*, int, off_t);

static void* Next(const char* name) { return dlsym(RTLD_NEXT, name); }

ssize_t write(int fd, const void* buf, size_t n) {
  static WriteFn real;
  if (!real) real = (WriteFn)Next("write");
  if (Fail(fd)) return -1;
  return real(fd, buf, n);
}

ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
  static PwriteFn real;
  if (!real) real = (PwriteFn)Next("pwrite");
  if (Fail(fd)) return -1;
  return real(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void* buf, size_t n, off_t off) {
  static PwriteFn real;
  if (!real) real = (PwriteFn)Next("pwrite64");
  if (Fail(fd)) return -1;
  return real(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec* iov, int n) {
  static WritevFn real;
  if (!real) real = (WritevFn)Next("writev");
  if (Fail(fd)) return -1;
  return real(fd, iov, n);
}

ssize_t pwritev(int fd, const struct iovec* iov, int n, off_t off) {
  static PwritevFn real;
  if (!real) real = (PwritevFn)Next("pwritev");
  if (Fail(fd)) return -1;
  return real(fd, iov, n, off);
}

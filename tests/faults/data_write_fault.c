/* data_write_fault: an LD_PRELOAD shim that makes write(2)-family calls on
 * regular files fail while the libfiu failure point "normbase/data/write" is
 * enabled, with errno from the point's failinfo (default EIO; 28 is ENOSPC).
 *
 * Why not libfiu's own posix/io/rw/write: it fails every write(), including
 * the eventfd and pipe writes that ZeroMQ and Asio use to wake their threads
 * (ZeroMQ aborts on those), so it tests the event loops, not the storage.
 * Only regular files hold data. Load it after /usr/lib/fiu/fiu_run_preload.so,
 * which initialises libfiu and its remote control (FIU_CTRL_FIFO), so that
 * `fiu-ctrl -c "enable name=normbase/data/write" PID` switches it on and off. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fiu.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static int Fail(int fd) {
  struct stat st;
  if (!fiu_fail("normbase/data/write")) return 0;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  intptr_t info = (intptr_t)fiu_failinfo();
  errno = info > 0 ? (int)info : EIO;
  return 1;
}

#define REAL(name, type) \
  static type real_##name; \
  if (!real_##name) real_##name = (type)dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void* buf, size_t n) {
  REAL(write, ssize_t (*)(int, const void*, size_t));
  if (Fail(fd)) return -1;
  return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
  REAL(pwrite, ssize_t (*)(int, const void*, size_t, off_t));
  if (Fail(fd)) return -1;
  return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void* buf, size_t n, off_t off) {
  REAL(pwrite64, ssize_t (*)(int, const void*, size_t, off_t));
  if (Fail(fd)) return -1;
  return real_pwrite64(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec* iov, int n) {
  REAL(writev, ssize_t (*)(int, const struct iovec*, int));
  if (Fail(fd)) return -1;
  return real_writev(fd, iov, n);
}

ssize_t pwritev(int fd, const struct iovec* iov, int n, off_t off) {
  REAL(pwritev, ssize_t (*)(int, const struct iovec*, int, off_t));
  if (Fail(fd)) return -1;
  return real_pwritev(fd, iov, n, off);
}

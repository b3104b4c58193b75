/* An LD_PRELOAD shim for bench/kv/cpu_per_set.sh (PRIVATE_DISK_US=N): each
 * fsync and fdatasync of the process, after the real call, sleeps N
 * microseconds. With the data on a tmpfs that emulates a disk of its own per
 * process, whose flush takes about N us (the wake-up adds 20-25 us on a
 * small VM) and waits on no other process's flushes, as on machines with a
 * disk per replica. The sleep uses no CPU, as a real flush's wait does not.
 * The timer slack is 1 ns during the sleep (the default 50 us would lengthen
 * every wait) and restored after. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

static long wait_ns(void) {
  static long ns = -1;
  if (ns < 0) {
    const char* s = getenv("PRIVATE_DISK_US");
    ns = s != NULL ? atol(s) * 1000L : 0;
  }
  return ns;
}

static void disk_wait(void) {
  const long ns = wait_ns();
  if (ns <= 0) return;
  const int slack = prctl(PR_GET_TIMERSLACK);
  prctl(PR_SET_TIMERSLACK, 1);
  struct timespec t = {ns / 1000000000L, ns % 1000000000L};
  while (nanosleep(&t, &t) != 0) {
  }
  if (slack > 0) prctl(PR_SET_TIMERSLACK, slack);
}

int fdatasync(int fd) {
  static int (*real)(int) = NULL;
  if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  const int r = real(fd);
  disk_wait();
  return r;
}

int fsync(int fd) {
  static int (*real)(int) = NULL;
  if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  const int r = real(fd);
  disk_wait();
  return r;
}

/* What one durable append costs this machine: wall time and CPU time per
 * pwrite + fdatasync, as a log makes them (bench/README.md, run 20):
 *
 *   cc -O2 -o /tmp/fsync_cost bench/kv/fsync_cost.c
 *   /tmp/fsync_cost FILE [COUNT] [BYTES] [buffered|direct|direct-dsync]
 *
 * FILE is created (or emptied) and zero-filled to 4 MiB first, durably, as
 * file_log preallocates its segments: the appends then overwrite blocks
 * that exist, and no call changes the file's size. COUNT appends (default
 * 5000) of BYTES each (default 1800; a multiple of 4096 for the direct
 * modes) go one after the other through those 4 MiB. The modes: buffered
 * (pwrite, then fdatasync, as file_log does), direct (O_DIRECT pwrite, then
 * fdatasync) and direct-dsync (O_DIRECT | O_DSYNC pwrite alone). CPU time is
 * the process's user + system time: on a virtual machine, the exits a
 * flush takes count there too. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum { span = 4 << 20, block = 4096 };

static double wall_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double cpu_seconds(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) + (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) * 1e-6;
}

static int fail(const char* what) {
  fprintf(stderr, "fsync_cost: %s: %s\n", what, strerror(errno));
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 2 || argc > 5) {
    fprintf(stderr, "usage: fsync_cost FILE [COUNT] [BYTES] [buffered|direct|direct-dsync]\n");
    return 2;
  }
  const long count = argc > 2 ? atol(argv[2]) : 5000;
  const long bytes = argc > 3 ? atol(argv[3]) : 1800;
  const char* mode = argc > 4 ? argv[4] : "buffered";
  int flags = O_RDWR;
  int sync_each = 1;
  if (strcmp(mode, "direct") == 0) {
    flags |= O_DIRECT;
  } else if (strcmp(mode, "direct-dsync") == 0) {
    flags |= O_DIRECT | O_DSYNC;
    sync_each = 0;
  } else if (strcmp(mode, "buffered") != 0) {
    fprintf(stderr, "fsync_cost: unknown mode '%s'\n", mode);
    return 2;
  }
  if (count <= 0 || bytes <= 0 || bytes > span || ((flags & O_DIRECT) != 0 && bytes % block != 0)) {
    fprintf(stderr, "fsync_cost: COUNT > 0; 0 < BYTES <= %d, a multiple of %d for the direct modes\n", span, block);
    return 2;
  }

  /* The zero fill, made durable before anything is timed. */
  static char zeros[1 << 16];
  const int fill = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fill < 0) return fail("open");
  for (long at = 0; at < span; at += (long)sizeof zeros)
    if (pwrite(fill, zeros, sizeof zeros, at) != (ssize_t)sizeof zeros) return fail("zero fill");
  if (fsync(fill) != 0) return fail("fsync");
  close(fill);

  const int fd = open(argv[1], flags);
  if (fd < 0) return fail("open (mode)");
  char* data = NULL;
  if (posix_memalign((void**)&data, block, (size_t)bytes) != 0) return fail("posix_memalign");
  memset(data, 'x', (size_t)bytes);

  const long slots = span / bytes;
  const double wall0 = wall_seconds(), cpu0 = cpu_seconds();
  for (long k = 0; k < count; ++k) {
    if (pwrite(fd, data, (size_t)bytes, (k % slots) * bytes) != bytes) return fail("pwrite");
    if (sync_each && fdatasync(fd) != 0) return fail("fdatasync");
  }
  const double wall = wall_seconds() - wall0, cpu = cpu_seconds() - cpu0;
  printf("%s, %ld appends of %ld bytes: %.1f us wall, %.1f us CPU per append\n", mode, count, bytes,
         wall / (double)count * 1e6, cpu / (double)count * 1e6);
  close(fd);
  free(data);
  return 0;
}

/*
 * LD_PRELOAD shim for running Swift servers under valgrind 3.19: an async `main` parks the main thread in
 * libdispatch's sigsuspend() with a mask in read-only memory, and valgrind's wrapper of rt_sigsuspend writes to
 * the mask it is given, so valgrind dies with SIGSEGV. This sigsuspend passes a writable copy instead.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, _NSIG / 8);
}

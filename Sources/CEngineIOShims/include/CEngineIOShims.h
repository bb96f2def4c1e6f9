#ifndef C_ENGINEIO_SHIMS_H
#define C_ENGINEIO_SHIMS_H
// Makes the Linux event APIs visible to Swift; Glibc's module does not export them.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

/// epoll_event is packed on x86_64, which Swift cannot always import field by field.
static inline uint64_t ceio_event_data(const struct epoll_event *ev) { return ev->data.u64; }
static inline uint32_t ceio_event_mask(const struct epoll_event *ev) { return ev->events; }
static inline int ceio_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev);
}
static inline int ceio_errno(void) { return errno; }
/// accept4 is a GNU extension; the definition lives in shims.c, built with _GNU_SOURCE.
int ceio_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
/// pipe2 with O_CLOEXEC, atomically (no other thread's child can inherit the ends); also GNU, in shims.c.
int ceio_pipe_cloexec(int fds[2]);
/// Fixes glibc's mmap threshold (mallopt(M_MMAP_THRESHOLD)): freed blocks from `bytes` up go back to the system.
int ceio_set_mmap_threshold(int bytes);
/// Caps how many malloc arenas glibc creates (mallopt(M_ARENA_MAX)); threads beyond that share them.
int ceio_set_arena_max(int count);
/// Fills `out` with `count` bytes from getrandom(2), served from a per-thread pool refilled 512 bytes at a
/// time (shims.c; one C file, as valgrind 3.19 misreads a module's second DWARF 5 unit); 0 on success, -1 when getrandom failed.
int ceio_random_bytes(void *out, size_t count);
#endif

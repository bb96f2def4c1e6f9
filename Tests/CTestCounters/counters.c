#define _GNU_SOURCE
#include "CTestCounters.h"
#include <dlfcn.h>
#include <malloc.h>
#include <execinfo.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <signal.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static __thread int ctc_on;
static __thread ctc_counts ctc_c;
static __thread int ctc_tracing;
static int ctc_trace = -1;

// With CTC_TRACE=1 in the environment, every counted allocation prints its call stack to stderr (a tool
// for finding where an allocation budget goes; unsymbolized frames resolve with addr2line).
static void ctc_maybe_trace(void) {
    if (ctc_trace < 0) {
        const char *v = getenv("CTC_TRACE");
        ctc_trace = v && v[0] == '1';
    }
    if (!ctc_trace || ctc_tracing) return;
    ctc_tracing = 1;
    void *frames[24];
    int n = backtrace(frames, 24);
    static const char sep[] = "---- allocation\n";
    (void)!write(2, sep, sizeof sep - 1);
    backtrace_symbols_fd(frames + 2, n - 2, 2);
    ctc_tracing = 0;
}

// Live heap of one thread: what it allocated minus what it freed, in usable bytes (size-class rounding
// included) and chunks, while `ctc_live_on` is set on that thread.
static __thread int ctc_live_on;
static __thread ctc_live ctc_l;

void ctc_live_enable(void) { ctc_live_on = 1; }
void ctc_live_disable(void) { ctc_live_on = 0; }
ctc_live ctc_live_read(void) { return ctc_l; }
void ctc_live_reset(void) {
    ctc_live zero = {0, 0};
    ctc_l = zero;
}

void ctc_enable(void) { ctc_on = 1; }
void ctc_disable(void) { ctc_on = 0; }
ctc_counts ctc_read(void) { return ctc_c; }
void ctc_reset(void) {
    ctc_counts zero = {0, 0, 0, 0, 0, 0};
    ctc_c = zero;
}

int ctc_interposed(void) {
    int was = ctc_on;
    ctc_counts saved = ctc_c;
    ctc_on = 1;
    void *volatile p = malloc(24);  // volatile: the call must happen
    int seen = ctc_c.allocations != saved.allocations;
    free(p);
    ctc_c = saved;
    ctc_on = was;
    return seen;
}

// Under a sanitizer (swift test --sanitize=thread/address) its runtime intercepts these functions itself, and
// ours would run before it is initialized (TSan crashes at load): nothing is interposed, ctc_interposed()
// answers 0 and the counting tests skip.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define CTC_SANITIZED 1
#endif
#endif

#ifndef CTC_SANITIZED
#define COUNT_ALLOC(n)                                                                                     \
    do {                                                                                                   \
        if (ctc_on && !ctc_tracing) {                                                                      \
            ctc_c.allocations++;                                                                           \
            ctc_c.allocatedBytes += (n);                                                                   \
            ctc_maybe_trace();                                                                             \
        }                                                                                                  \
    } while (0)

static inline void *live_add(void *p) {
    if (ctc_live_on && p) {
        ctc_l.bytes += (int64_t)malloc_usable_size(p);
        ctc_l.chunks += 1;
    }
    return p;
}

static inline void live_remove(void *p) {
    if (ctc_live_on && p) {
        ctc_l.bytes -= (int64_t)malloc_usable_size(p);
        ctc_l.chunks -= 1;
    }
}

void *malloc(size_t n) {
    COUNT_ALLOC(n);
    return live_add(__libc_malloc(n));
}

void *calloc(size_t a, size_t b) {
    COUNT_ALLOC(a * b);
    return live_add(__libc_calloc(a, b));
}

void *realloc(void *p, size_t n) {
    if (n) COUNT_ALLOC(n);
    if (!ctc_live_on) return __libc_realloc(p, n);
    int64_t before = p ? (int64_t)malloc_usable_size(p) : 0;
    void *q = __libc_realloc(p, n);
    if (q || n == 0) {
        ctc_l.bytes -= before;
        ctc_l.chunks -= p ? 1 : 0;
        live_add(q);
    }
    return q;
}

void free(void *p) {
    live_remove(p);
    __libc_free(p);
}

void *memalign(size_t alignment, size_t n) {
    COUNT_ALLOC(n);
    return live_add(__libc_memalign(alignment, n));
}

void *aligned_alloc(size_t alignment, size_t n) {
    COUNT_ALLOC(n);
    return live_add(__libc_memalign(alignment, n));
}

int posix_memalign(void **out, size_t alignment, size_t n) {
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0) return 22; /* EINVAL */
    COUNT_ALLOC(n);
    void *p = live_add(__libc_memalign(alignment, n));
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}

// ---- system calls: forward to the next definition (libc's), found once.

#define NEXT(name)                                                                                         \
    static __typeof__(name) *real_##name;                                                                  \
    if (!real_##name) real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

ssize_t send(int fd, const void *buf, size_t len, int flags) {
    NEXT(send);
    if (ctc_on) ctc_c.sends++;
    return real_send(fd, buf, len, flags);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr, socklen_t alen) {
    NEXT(sendto);
    if (ctc_on) ctc_c.sends++;
    return real_sendto(fd, buf, len, flags, addr, alen);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
    NEXT(sendmsg);
    if (ctc_on) ctc_c.sends++;
    return real_sendmsg(fd, msg, flags);
}

ssize_t write(int fd, const void *buf, size_t len) {
    NEXT(write);
    if (ctc_on) ctc_c.sends++;
    return real_write(fd, buf, len);
}

ssize_t writev(int fd, const struct iovec *iov, int n) {
    NEXT(writev);
    if (ctc_on) ctc_c.sends++;
    return real_writev(fd, iov, n);
}

ssize_t recv(int fd, void *buf, size_t len, int flags) {
    NEXT(recv);
    if (ctc_on) ctc_c.receives++;
    return real_recv(fd, buf, len, flags);
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr, socklen_t *alen) {
    NEXT(recvfrom);
    if (ctc_on) ctc_c.receives++;
    return real_recvfrom(fd, buf, len, flags, addr, alen);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags) {
    NEXT(recvmsg);
    if (ctc_on) ctc_c.receives++;
    return real_recvmsg(fd, msg, flags);
}

ssize_t read(int fd, void *buf, size_t len) {
    NEXT(read);
    if (ctc_on) ctc_c.receives++;
    return real_read(fd, buf, len);
}

ssize_t readv(int fd, const struct iovec *iov, int n) {
    NEXT(readv);
    if (ctc_on) ctc_c.receives++;
    return real_readv(fd, iov, n);
}

int epoll_wait(int epfd, struct epoll_event *events, int max, int timeout) {
    NEXT(epoll_wait);
    if (ctc_on) ctc_c.waits++;
    return real_epoll_wait(epfd, events, max, timeout);
}

int epoll_pwait(int epfd, struct epoll_event *events, int max, int timeout, const sigset_t *mask) {
    NEXT(epoll_pwait);
    if (ctc_on) ctc_c.waits++;
    return real_epoll_pwait(epfd, events, max, timeout, mask);
}
// The calls a new connection makes besides reading, writing and waiting.
int accept(int fd, struct sockaddr *addr, socklen_t *len) {
    NEXT(accept);
    if (ctc_on) ctc_c.others++;
    return real_accept(fd, addr, len);
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    NEXT(accept4);
    if (ctc_on) ctc_c.others++;
    return real_accept4(fd, addr, len, flags);
}

int setsockopt(int fd, int level, int name, const void *value, socklen_t len) {
    NEXT(setsockopt);
    if (ctc_on) ctc_c.others++;
    return real_setsockopt(fd, level, name, value, len);
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event) {
    NEXT(epoll_ctl);
    if (ctc_on) ctc_c.others++;
    return real_epoll_ctl(epfd, op, fd, event);
}

ssize_t getrandom(void *buf, size_t len, unsigned int flags) {
    NEXT(getrandom);
    if (ctc_on) ctc_c.others++;
    return real_getrandom(buf, len, flags);
}

int shutdown(int fd, int how) {
    NEXT(shutdown);
    if (ctc_on) ctc_c.others++;
    return real_shutdown(fd, how);
}

int close(int fd) {
    NEXT(close);
    if (ctc_on) ctc_c.others++;
    return real_close(fd);
}
#endif  // CTC_SANITIZED

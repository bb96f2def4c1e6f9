#ifndef C_TEST_COUNTERS_H
#define C_TEST_COUNTERS_H
// Per-thread counters of heap allocations and socket system calls, for the performance guard tests.
//
// The test executable defines malloc, calloc, realloc, posix_memalign, aligned_alloc and memalign (which
// forward to glibc's __libc_* entry points) and send, sendto, sendmsg, writev, write, recv, recvfrom,
// recvmsg, read, readv, epoll_wait, epoll_pwait, accept, accept4, setsockopt, epoll_ctl, getrandom, shutdown,
// close (which forward to the next definition, libc's). Because
// libraries in the link reference them, the linker exports these definitions and they interpose libc's in
// the whole process. Counting is off everywhere until a thread turns it on for itself, so every other test
// only pays one thread-local check per call.
#include <stdint.h>

typedef struct {
    uint64_t allocations;   // malloc, calloc, realloc (when it allocates), posix_memalign, aligned_alloc, memalign
    uint64_t allocatedBytes;
    uint64_t sends;         // send, sendto, sendmsg, write, writev
    uint64_t receives;      // recv, recvfrom, recvmsg, read, readv
    uint64_t waits;         // epoll_wait, epoll_pwait
    uint64_t others;        // accept, accept4, setsockopt, epoll_ctl, getrandom, shutdown, close
} ctc_counts;

/// Starts counting on the calling thread (the counters keep their values).
// Net heap growth of the calling thread while enabled: usable bytes (malloc_usable_size, so size-class
// rounding counts) and chunks allocated minus those freed on that thread.
typedef struct {
    int64_t bytes;
    int64_t chunks;
} ctc_live;

void ctc_live_enable(void);
void ctc_live_disable(void);
ctc_live ctc_live_read(void);
void ctc_live_reset(void);

void ctc_enable(void);
/// Stops counting on the calling thread.
void ctc_disable(void);
/// The calling thread's counters.
ctc_counts ctc_read(void);
/// Zeroes the calling thread's counters.
void ctc_reset(void);
/// Whether the interposition is in effect (a probe allocation while enabled was seen).
int ctc_interposed(void);
#endif

#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include "CEngineIOShims.h"

int ceio_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    return accept4(fd, addr, len, flags);
}

int ceio_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int ceio_set_mmap_threshold(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes);
}

int ceio_set_arena_max(int count) {
    return mallopt(M_ARENA_MAX, count);
}

// Bytes from getrandom(2) taken 512 at a time, one pool per thread: a new session id costs no system call
// (two getrandom calls each before). The bytes are as unpredictable as getrandom's; a used byte is wiped
// so that it cannot be handed out twice, and a forked child starts with an empty pool (a parent's unused
// bytes must not become the child's ids too).
#define CEIO_POOL_SIZE 512

static __thread unsigned char pool[CEIO_POOL_SIZE];
static __thread size_t pool_left;
static pthread_once_t fork_hook_once = PTHREAD_ONCE_INIT;

static void empty_pool_in_child(void) {
    memset(pool, 0, sizeof pool);
    pool_left = 0;
}

static void install_fork_hook(void) { pthread_atfork(NULL, NULL, empty_pool_in_child); }

static int refill(void) {
    size_t got = 0;
    while (got < CEIO_POOL_SIZE) {
        ssize_t n = getrandom(pool + got, CEIO_POOL_SIZE - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        got += (size_t)n;
    }
    pool_left = CEIO_POOL_SIZE;
    return 0;
}

int ceio_random_bytes(void *out, size_t count) {
    pthread_once(&fork_hook_once, install_fork_hook);
    unsigned char *dst = out;
    while (count > 0) {
        if (pool_left == 0 && refill() != 0) return -1;
        size_t take = count < pool_left ? count : pool_left;
        unsigned char *src = pool + (CEIO_POOL_SIZE - pool_left);
        memcpy(dst, src, take);
        memset(src, 0, take);
        pool_left -= take;
        dst += take;
        count -= take;
    }
    return 0;
}

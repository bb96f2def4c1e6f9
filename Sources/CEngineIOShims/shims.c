#define _GNU_SOURCE
#include <malloc.h>
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

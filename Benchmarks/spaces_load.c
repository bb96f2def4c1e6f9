/*
 * spaces_load: the HTTP side of `make bench-spaces`. USERS threads, each on one kept-alive HTTP/1.1 connection,
 * submit prompts to a websockets space (POST /websockets/submit/ID) and follow each submit with READS status
 * reads (GET /websockets/status), until REQUESTS submits are made in all. With --rate, submits start on a fixed
 * schedule (REQUESTS/RATE seconds in all) instead of as fast as the server answers.
 *
 * Blocking sockets, one thread per user: a user waits for each answer before its next request, as a browser
 * would, and the generator costs a few microseconds per request, far below the server it measures.
 *
 *   spaces_load --port P --space ID --cookie 'spaces_session=...' [--host 127.0.0.1] [--requests 3000]
 *               [--users 16] [--reads 2] [--rate 0] [--out FILE] [--source-addrs 127.0.0.2,127.0.0.3,...]
 *
 * --source-addrs gives user i the i-th address of the list (round robin), bound before each connect: a load
 * balancer that hashes the client address (nginx's `hash $remote_addr`) then spreads the users over its nodes, as
 * it would real browsers, instead of sending everyone from 127.0.0.1 to one node. Every 127.x.y.z address is local
 * on Linux, so no setup is needed.
 *
 * Prints one JSON line: submits, failures, seconds, submits_per_second, http_per_second. --out writes one line per
 * accepted submit: request id and the wall-clock time (µs since 1970) its request was sent.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { BUFFER_BYTES = 1 << 16, ID_BYTES = 64, MAX_SOURCES = 256 };

static const char *host = "127.0.0.1";
static int port;
static long space_id = -1;
static const char *cookie = "";
static long total_requests = 3000;
static int users = 16;
static int reads = 2;
static double rate;
static const char *out_path;
static struct in_addr sources[MAX_SOURCES];
static int source_count;

static atomic_long next_ticket;
static atomic_long failures;
static atomic_long http_requests;
static double started_at;

struct sent {
    char id[ID_BYTES];
    int64_t sent_us;
};
static struct sent *log_entries;
static atomic_long logged;

struct connection {
    int fd;
    const struct in_addr *source; /* NULL: the kernel picks, 127.0.0.1 towards a loopback host */
    char buffer[BUFFER_BYTES];
};

static double monotonic_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t wall_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int open_connection(const struct in_addr *source) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &address.sin_addr);
    int one = 1;
    if (source) {
        /* The port is left to connect(), which can reuse one per destination, not to bind(). */
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        struct sockaddr_in local = {.sin_family = AF_INET, .sin_addr = *source};
        if (bind(fd, (struct sockaddr *)&local, sizeof local) != 0) {
            close(fd);
            return -1;
        }
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval timeout = {.tv_sec = 30};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *data, size_t length) {
    while (length > 0) {
        ssize_t sent = send(fd, data, length, MSG_NOSIGNAL);
        if (sent <= 0) return -1;
        data += sent;
        length -= (size_t)sent;
    }
    return 0;
}

/* Sends `request` and reads one response with a Content-Length body into c->buffer. Returns the status code
 * (0 on a broken connection, which is then reopened for the next exchange); *body points at the body. */
static int exchange(struct connection *c, const char *request, size_t length, const char **body) {
    if (c->fd < 0 && (c->fd = open_connection(c->source)) < 0) return 0;
    atomic_fetch_add(&http_requests, 1);
    if (send_all(c->fd, request, length) != 0) goto broken;
    size_t have = 0;
    char *header_end = NULL;
    while (!header_end) {
        if (have >= BUFFER_BYTES - 1) goto broken;
        ssize_t got = recv(c->fd, c->buffer + have, BUFFER_BYTES - 1 - have, 0);
        if (got <= 0) goto broken;
        have += (size_t)got;
        c->buffer[have] = 0;
        header_end = strstr(c->buffer, "\r\n\r\n");
    }
    int status = 0;
    if (sscanf(c->buffer, "HTTP/1.%*d %d", &status) != 1) goto broken;
    const char *found = strcasestr(c->buffer, "\r\ncontent-length:");
    if (!found || found > header_end) goto broken;
    size_t content_length = strtoul(found + 17, NULL, 10);
    size_t head_bytes = (size_t)(header_end + 4 - c->buffer);
    if (head_bytes + content_length >= BUFFER_BYTES) goto broken;
    while (have < head_bytes + content_length) {
        ssize_t got = recv(c->fd, c->buffer + have, BUFFER_BYTES - 1 - have, 0);
        if (got <= 0) goto broken;
        have += (size_t)got;
    }
    c->buffer[head_bytes + content_length] = 0;
    const char *closing = strcasestr(c->buffer, "\r\nconnection: close");
    if (closing && closing < header_end) {
        close(c->fd);
        c->fd = -1;
    }
    *body = c->buffer + head_bytes;
    return status;
broken:
    close(c->fd);
    c->fd = -1;
    return 0;
}

static void *user_loop(void *index) {
    struct connection *c = malloc(sizeof *c);
    if (!c) return NULL;
    c->fd = -1;
    c->source = source_count > 0 ? &sources[(intptr_t)index % source_count] : NULL;
    char request[2048];
    const char *form = "prompt=benchmark";
    for (;;) {
        long ticket = atomic_fetch_add(&next_ticket, 1);
        if (ticket >= total_requests) break;
        if (rate > 0) {
            double due = started_at + ticket / rate;
            double wait = due - monotonic_now();
            if (wait > 0) {
                struct timespec ts = {.tv_sec = (time_t)wait, .tv_nsec = (long)((wait - (time_t)wait) * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
        int length = snprintf(request, sizeof request,
                              "POST /websockets/submit/%ld HTTP/1.1\r\nHost: %s:%d\r\nCookie: %s\r\n"
                              "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n\r\n%s",
                              space_id, host, port, cookie, strlen(form), form);
        int64_t sent_us = wall_us();
        const char *body = NULL;
        int status = exchange(c, request, (size_t)length, &body);
        const char *key = status == 200 ? strstr(body, "\"request_id\":\"") : NULL;
        if (!key) {
            atomic_fetch_add(&failures, 1);
            continue;
        }
        char id[ID_BYTES];
        size_t n = 0;
        for (key += 14; *key && *key != '"' && n < ID_BYTES - 1; key++) id[n++] = *key;
        id[n] = 0;
        long slot = atomic_fetch_add(&logged, 1);
        memcpy(log_entries[slot].id, id, n + 1);
        log_entries[slot].sent_us = sent_us;
        for (int read = 0; read < reads; read++) {
            length = snprintf(request, sizeof request,
                              "GET /websockets/status?request_id=%s HTTP/1.1\r\nHost: %s:%d\r\nCookie: %s\r\n\r\n",
                              id, host, port, cookie);
            if (exchange(c, request, (size_t)length, &body) != 200) atomic_fetch_add(&failures, 1);
        }
    }
    if (c->fd >= 0) close(c->fd);
    free(c);
    return NULL;
}

static void usage(void) {
    fprintf(stderr, "usage: spaces_load --port P --space ID --cookie C [--host H] [--requests N] [--users U]"
                    " [--reads R] [--rate PER_SECOND] [--out FILE] [--source-addrs A,B,...]\n");
    exit(2);
}

/* Fills `sources` from a comma-separated list of IPv4 addresses. */
static void parse_sources(const char *list) {
    char copy[4096];
    if (strlen(list) >= sizeof copy) usage();
    strcpy(copy, list);
    char *saved = NULL;
    for (char *item = strtok_r(copy, ",", &saved); item; item = strtok_r(NULL, ",", &saved)) {
        if (source_count == MAX_SOURCES || inet_pton(AF_INET, item, &sources[source_count]) != 1) usage();
        source_count++;
    }
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i];
        if (i + 1 >= argc) usage();
        const char *value = argv[++i];
        if (!strcmp(flag, "--host")) host = value;
        else if (!strcmp(flag, "--port")) port = atoi(value);
        else if (!strcmp(flag, "--space")) space_id = atol(value);
        else if (!strcmp(flag, "--cookie")) cookie = value;
        else if (!strcmp(flag, "--requests")) total_requests = atol(value);
        else if (!strcmp(flag, "--users")) users = atoi(value);
        else if (!strcmp(flag, "--reads")) reads = atoi(value);
        else if (!strcmp(flag, "--rate")) rate = atof(value);
        else if (!strcmp(flag, "--out")) out_path = value;
        else if (!strcmp(flag, "--source-addrs")) parse_sources(value);
        else usage();
    }
    if (port <= 0 || space_id < 0 || users <= 0 || users > 1024 || total_requests <= 0 || reads < 0) usage();
    log_entries = calloc((size_t)total_requests, sizeof *log_entries);
    pthread_t *threads = calloc((size_t)users, sizeof *threads);
    if (!log_entries || !threads) return 1;
    started_at = monotonic_now();
    for (int i = 0; i < users; i++) pthread_create(&threads[i], NULL, user_loop, (void *)(intptr_t)i);
    for (int i = 0; i < users; i++) pthread_join(threads[i], NULL);
    double seconds = monotonic_now() - started_at;
    long accepted = atomic_load(&logged);
    if (out_path) {
        FILE *out = fopen(out_path, "w");
        if (!out) return 1;
        for (long i = 0; i < accepted; i++) fprintf(out, "%s %lld\n", log_entries[i].id, (long long)log_entries[i].sent_us);
        fclose(out);
    }
    printf("{\"submits\": %ld, \"failures\": %ld, \"seconds\": %.3f, \"submits_per_second\": %.1f,"
           " \"http_per_second\": %.1f}\n",
           accepted, atomic_load(&failures), seconds, accepted / seconds, atomic_load(&http_requests) / seconds);
    return 0;
}

#include "common.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

volatile int stop_requested = 0;

void die(const char *prog, int errnum, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (errnum)
        fprintf(stderr, ": %s", strerror(errnum));
    fputc('\n', stderr);
    exit(1);
}

void usage_exit(const char *usage, int code) {
    fputs(usage, code == 0 ? stdout : stderr);
    exit(code);
}

uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

long long parse_count(const char *text, long long max) {
    if (!text || !*text)
        return -1;
    long long v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
        if (v > max)
            return -1;
    }
    return v;
}

double parse_seconds(const char *text) {
    if (!text || !*text)
        return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || *end || v < 0 || v > 86400 || v != v)
        return -1;
    return v;
}

static const struct opt *find_opt(const struct opt *table, const char *name) {
    for (; table->name; table++)
        if (!strcmp(table->name, name))
            return table;
    return NULL;
}

int parse_options(int argc, char **argv, const char *usage, const struct opt *table) {
    if (argc >= 2 && strcmp(argv[1], "--help") == 0)
        usage_exit(usage, 0);
    if (argc < 2 || (strcmp(argv[1], "server") && strcmp(argv[1], "client")))
        usage_exit(usage, EXIT_USAGE);
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help"))
            usage_exit(usage, 0);
        const struct opt *o = find_opt(table, argv[i]);
        if (!o)
            usage_exit(usage, EXIT_USAGE);
        if (o->kind == OPT_FLAG) {
            *(int *)o->target = 1;
            continue;
        }
        if (i + 1 >= argc)
            usage_exit(usage, EXIT_USAGE);
        const char *v = argv[++i];
        if (o->kind == OPT_TEXT) {
            *(const char **)o->target = v;
        } else if (o->kind == OPT_COUNT) {
            long long n = parse_count(v, o->max);
            if (n < 0)
                usage_exit(usage, EXIT_USAGE);
            *(long long *)o->target = n;
        } else {
            double s = parse_seconds(v);
            if (s < 0)
                usage_exit(usage, EXIT_USAGE);
            *(double *)o->target = s;
        }
    }
    return strcmp(argv[1], "server") == 0;
}

struct addrinfo *resolve(const char *prog, const char *addr, const char *port, int passive,
                         int socktype) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = socktype;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    int rc = getaddrinfo(addr, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "%s: bad address %s port %s: %s\n", prog, addr ? addr : "*", port,
                gai_strerror(rc));
        exit(EXIT_USAGE);
    }
    return res;
}

void set_nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

long move_all(int fd, char *buf, size_t len, int sending) {
    size_t off = 0;
    while (off < len) {
        ssize_t n = sending ? send(fd, buf + off, len - off, MSG_NOSIGNAL)
                            : recv(fd, buf + off, len - off, 0);
        if (n < 0 && errno == EINTR && !stop_requested)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        off += (size_t)n;
    }
    return (long)off;
}

static void set_buffers(const char *prog, int fd, int sockbuf) {
    if (sockbuf <= 0)
        return;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sockbuf, sizeof sockbuf) ||
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sockbuf, sizeof sockbuf))
        die(prog, errno, "setting socket buffers to %d", sockbuf);
}

int listen_on(const char *prog, const char *addr, const char *port, int sockbuf) {
    struct addrinfo *res = resolve(prog, addr, port, 1, SOCK_STREAM);
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die(prog, errno, "socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    set_buffers(prog, fd, sockbuf); /* before listen: inherited, and sizes the window scale */
    if (bind(fd, res->ai_addr, res->ai_addrlen))
        die(prog, errno, "bind to %s port %s", addr ? addr : "*", port);
    if (listen(fd, 64))
        die(prog, errno, "listen");
    freeaddrinfo(res);
    return fd;
}

int udp_socket(const char *prog, const char *addr, const char *port, int bind_it) {
    struct addrinfo *res = resolve(prog, addr, port, bind_it, SOCK_DGRAM);
    int fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die(prog, errno, "socket");
    if (bind_it ? bind(fd, res->ai_addr, res->ai_addrlen)
                : connect(fd, res->ai_addr, res->ai_addrlen))
        die(prog, errno, "%s %s port %s", bind_it ? "bind to" : "connect to",
            addr ? addr : "*", port);
    freeaddrinfo(res);
    return fd;
}

int connect_to(const char *prog, const char *addr, const char *port, int sockbuf) {
    struct addrinfo *res = resolve(prog, addr, port, 0, SOCK_STREAM);
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die(prog, errno, "socket");
    set_buffers(prog, fd, sockbuf);
    if (connect(fd, res->ai_addr, res->ai_addrlen))
        die(prog, errno, "connect to %s port %s", addr, port);
    freeaddrinfo(res);
    return fd;
}

int accept_next(const char *prog, int lfd) {
    int fd;
    do {
        fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR && !stop_requested);
    if (fd < 0)
        die(prog, stop_requested ? 0 : errno, stop_requested ? "stopped by a signal before a "
                                                             "client connected" : "accept");
    return fd;
}

int accept_one(const char *prog, int lfd) {
    int fd = accept_next(prog, lfd);
    close(lfd);
    return fd;
}

void socket_buffers(int fd, int *sndbuf, int *rcvbuf) {
    socklen_t len = sizeof *sndbuf;
    *sndbuf = *rcvbuf = -1;
    getsockopt(fd, SOL_SOCKET, SO_SNDBUF, sndbuf, &len);
    len = sizeof *rcvbuf;
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf, &len);
}

static void on_stop(int sig) {
    (void)sig;
    stop_requested = 1;
}

void install_stop_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop; /* no SA_RESTART: blocking calls return EINTR and see the flag */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

void arm_timer(double seconds) {
    struct itimerval it;
    memset(&it, 0, sizeof it);
    it.it_value.tv_sec = (time_t)seconds;
    it.it_value.tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6);
    if (seconds > 0 && it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0)
        it.it_value.tv_usec = 1;
    setitimer(ITIMER_REAL, &it, NULL);
}

void json_rusage(const struct rusage *ru) {
    printf("\"rusage\": {\"user_s\": %.6f, \"system_s\": %.6f, \"max_rss_kib\": %ld, "
           "\"voluntary_ctx_switches\": %ld, \"involuntary_ctx_switches\": %ld}",
           (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6,
           (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6, ru->ru_maxrss,
           ru->ru_nvcsw, ru->ru_nivcsw);
}

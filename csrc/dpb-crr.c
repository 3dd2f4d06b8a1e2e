/* dpb-crr: TCP connection rate (netperf's TCP_CRR). The client, one connection at a time:
 * connect, send a --size request, receive the --size response, see the server's FIN, close.
 * The server accepts each, echoes the request and closes first, so the TIME_WAIT of every
 * connection is held by the server (one listening port) and the client's ephemeral ports are
 * free again at once: a long run does not exhaust them. Connections started in the first
 * --warmup seconds are not counted; the rate is the connections completed in the window over
 * the window. A connect that fails is counted by its errno (EADDRNOTAVAIL: the client ran out
 * of local ports) and never counted as a connection. */
#include "common.h"
#include "histogram.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROG "dpb-crr"
#define MAX_ERRNOS 16 /* distinct errnos listed; more are counted under "other" */
#define GIVE_UP 1000   /* failures in a row: the server is gone, not a dataplane's refusal */
#define END_MARK 0xff /* a request's first byte: 0 in every measured one, this in the last */

static const char *USAGE =
    "usage: dpb-crr server --bind ADDR|any --port PORT [--size BYTES]\n"
    "       dpb-crr client --host ADDR --port PORT [options]\n"
    "options:\n"
    "  --size BYTES   request and response size (default 1)\n"
    "  --duration S   measure for S seconds (default 10)\n"
    "  --warmup S     connections started in the first S seconds are not counted (default 1)\n"
    "  --help         this text\n"
    "The server closes each connection first (it keeps the TIME_WAIT). When the client is done\n"
    "it sends one request starting with byte 0xff: the server prints its count and exits.\n"
    "SIGINT/SIGTERM stop either side.\n";

struct opts {
    int server;
    const char *bind, *host, *port;
    long long size;
    double duration, warmup;
};

static void parse(int argc, char **argv, struct opts *o) {
    memset(o, 0, sizeof *o);
    o->size = 1;
    o->duration = 10;
    o->warmup = 1;
    const struct opt table[] = {
        {"--bind", OPT_TEXT, &o->bind, 0},   {"--host", OPT_TEXT, &o->host, 0},
        {"--port", OPT_TEXT, &o->port, 0},   {"--size", OPT_COUNT, &o->size, 1 << 20},
        {"--duration", OPT_SECONDS, &o->duration, 0},
        {"--warmup", OPT_SECONDS, &o->warmup, 0}, {NULL, OPT_TEXT, NULL, 0}};
    o->server = parse_options(argc, argv, USAGE, table);
    int bad = !o->port || parse_count(o->port, 65535) <= 0 || o->size <= 0 ||
              o->duration <= 0 || o->warmup < 0 || (o->server ? !o->bind : !o->host);
    if (bad)
        usage_exit(USAGE, EXIT_USAGE);
}

static int run_server(const struct opts *o) {
    int lfd = listen_on(PROG, strcmp(o->bind, "any") ? o->bind : NULL, o->port, 0);
    char *buf = malloc((size_t)o->size);
    if (!buf)
        die(PROG, errno, "allocating %lld bytes", o->size);
    unsigned long long served = 0, broken = 0;
    for (;;) {
        int fd = accept_next(PROG, lfd);
        set_nodelay(fd);
        long got = move_all(fd, buf, (size_t)o->size, 0);
        if (got == (long)o->size && (unsigned char)buf[0] == END_MARK) {
            close(fd);
            break;
        }
        if (got == (long)o->size && move_all(fd, buf, (size_t)o->size, 1) == (long)o->size)
            served++;
        else
            broken++; /* reset or cut short: the client counts it as failed */
        close(fd);
    }
    close(lfd);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"tool\": \"dpb-crr\", \"role\": \"server\", \"message_size\": %lld, "
           "\"connections\": %llu, \"broken\": %llu, ", o->size, served, broken);
    json_rusage(&ru);
    printf("}\n");
    free(buf);
    return 0;
}

struct failures {
    int errnos[MAX_ERRNOS];
    unsigned long long counts[MAX_ERRNOS], other, total;
    int n;
};

static void count_failure(struct failures *f, int err) {
    f->total++;
    for (int i = 0; i < f->n; i++)
        if (f->errnos[i] == err) {
            f->counts[i]++;
            return;
        }
    if (f->n == MAX_ERRNOS) {
        f->other++;
        return;
    }
    f->errnos[f->n] = err;
    f->counts[f->n++] = 1;
}

static const char *errno_name(int err) {
    switch (err) {
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ECONNRESET: return "ECONNRESET";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENETUNREACH: return "ENETUNREACH";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOBUFS: return "ENOBUFS";
    case EPIPE: return "EPIPE";
    case 0: return "EOF"; /* the server closed before the whole response */
    default: return NULL;
    }
}

static void failures_json(const struct failures *f) {
    printf("\"failed\": %llu, \"failed_by_errno\": {", f->total);
    for (int i = 0; i < f->n; i++) {
        const char *name = errno_name(f->errnos[i]);
        if (name)
            printf("%s\"%s\": %llu", i ? ", " : "", name, f->counts[i]);
        else
            printf("%s\"errno %d\": %llu", i ? ", " : "", f->errnos[i], f->counts[i]);
    }
    if (f->other)
        printf("%s\"other\": %llu", f->n ? ", " : "", f->other);
    printf("}");
}

/* One connection: 0 when it completed, else the errno (0 for "closed early" is mapped by the
   caller through *early). connect_ns is the connect() call alone. */
static int one_connection(const struct addrinfo *ai, char *buf, size_t size,
                          uint64_t *connect_ns, int *early) {
    *early = 0;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    set_nodelay(fd);
    uint64_t c0 = now_ns();
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    *connect_ns = now_ns() - c0;
    int err = rc ? errno : 0;
    if (!err) {
        char eof;
        if (move_all(fd, buf, size, 1) != (long)size)
            err = errno ? errno : EPIPE;
        else if (move_all(fd, buf, size, 0) != (long)size)
            *early = 1, err = errno;
        else if (recv(fd, &eof, 1, 0) != 0) /* the server's FIN, not more data */
            err = errno ? errno : EPROTO;
    }
    close(fd);
    return err;
}

static int run_client(const struct opts *o) {
    struct addrinfo *ai = resolve(PROG, o->host, o->port, 0, SOCK_STREAM);
    char *buf = calloc(1, (size_t)o->size);
    if (!buf)
        die(PROG, errno, "allocating %lld bytes", o->size);
    static struct histogram connect_h, transaction_h;
    hist_init(&connect_h);
    hist_init(&transaction_h);
    struct failures failed = {0}, failed_in_window = {0};
    unsigned long long attempts = 0;
    int in_a_row = 0;
    arm_timer(o->warmup + o->duration);
    uint64_t start = now_ns(), window = start + (uint64_t)(o->warmup * 1e9);
    uint64_t end = window + (uint64_t)(o->duration * 1e9), measured_from = 0, last = 0;
    while (!stop_requested) {
        uint64_t t0 = now_ns(), connect_ns = 0;
        int early = 0;
        errno = 0;
        int err = one_connection(ai, buf, (size_t)o->size, &connect_ns, &early);
        uint64_t t1 = now_ns();
        if (err == EINTR && stop_requested)
            break; /* the timer ended a connection half-way: not counted either way */
        attempts++;
        int in_window = t0 >= window && t1 <= end;
        if (err == ECONNREFUSED && attempts == 1)
            die(PROG, err, "connect to %s port %s", o->host, o->port);
        if (err || early) {
            if (++in_a_row == GIVE_UP)
                die(PROG, err ? err : EPIPE, "the server went away after %llu connections; %d "
                    "failed in a row, the last one", attempts - GIVE_UP, GIVE_UP);
            count_failure(&failed, early && !err ? 0 : err);
            if (in_window)
                count_failure(&failed_in_window, early && !err ? 0 : err);
            if (err == EADDRNOTAVAIL || err == EMFILE || err == ENFILE || err == ENOBUFS) {
                struct timespec pause = {0, 1000000}; /* out of a resource: let it drain */
                nanosleep(&pause, NULL);
            }
            continue;
        }
        in_a_row = 0;
        if (in_window) {
            if (!measured_from)
                measured_from = t0;
            hist_add(&connect_h, connect_ns);
            hist_add(&transaction_h, t1 - t0);
            last = t1;
        }
    }
    arm_timer(0);
    /* The end of the test: one request that starts with END_MARK. */
    stop_requested = 0;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen))
        die(PROG, errno, "telling the server the test is over");
    buf[0] = (char)END_MARK;
    if (move_all(fd, buf, (size_t)o->size, 1) != (long)o->size)
        die(PROG, errno, "telling the server the test is over");
    char eof;
    while (recv(fd, &eof, 1, 0) > 0) {
    }
    close(fd);
    freeaddrinfo(ai);
    if (transaction_h.n == 0)
        die(PROG, 0, "no connection completed in the window (%llu failed, %llu attempts)",
            failed.total, attempts);
    /* The rate's window: from the first counted connection's start to the last one's end,
       scaled to whole connections (n completed over n transactions' span). */
    double seconds = (double)(last - measured_from) / 1e9;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"tool\": \"dpb-crr\", \"role\": \"client\", \"message_size\": %lld, "
           "\"warmup_s\": %g, \"duration_s\": %g, \"attempts\": %llu, \"connections\": %llu, "
           "\"seconds\": %.9f, \"connections_per_s\": %.3f, ",
           o->size, o->warmup, o->duration, attempts, (unsigned long long)transaction_h.n,
           seconds, seconds > 0 ? (double)transaction_h.n / seconds : 0.0);
    failures_json(&failed);
    printf(", \"failed_in_window\": %llu, \"connect_ns\": ", failed_in_window.total);
    hist_json(&connect_h, 1.0);
    printf(", \"transaction_ns\": ");
    hist_json(&transaction_h, 1.0);
    printf(", \"histogram_relative_error\": 0.004, ");
    json_rusage(&ru);
    printf("}\n");
    free(buf);
    return 0;
}

int main(int argc, char **argv) {
    struct opts o;
    parse(argc, argv, &o);
    install_stop_handlers();
    return o.server ? run_server(&o) : run_client(&o);
}

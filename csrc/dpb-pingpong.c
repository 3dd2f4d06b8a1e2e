/* dpb-pingpong: TCP request/response latency. The client sends --size bytes (TCP_NODELAY on both
 * sides), the server echoes them; every round trip after the warm-up goes into a histogram.
 * The client prints the RTT and the one-way latency (= RTT / 2) as JSON, labelled as such. */
#include "common.h"
#include "histogram.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROG "dpb-pingpong"

static const char *USAGE =
    "usage: dpb-pingpong server --bind ADDR|any --port PORT [--size BYTES]\n"
    "       dpb-pingpong client --host ADDR --port PORT [options]\n"
    "options:\n"
    "  --size BYTES   request and response size (default 1)\n"
    "  --duration S   measure for S seconds (default 10)\n"
    "  --count N      or measure N round trips (whichever ends first)\n"
    "  --warmup S     round trips during the first S seconds are not recorded (default 1)\n"
    "  --help         this text\n"
    "The server serves one client and exits; SIGINT/SIGTERM stop either side.\n";

struct opts {
    int server;
    const char *bind, *host, *port;
    long long size, count;
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
        {"--count", OPT_COUNT, &o->count, (long long)1 << 40},
        {"--duration", OPT_SECONDS, &o->duration, 0},
        {"--warmup", OPT_SECONDS, &o->warmup, 0}, {NULL, OPT_TEXT, NULL, 0}};
    o->server = parse_options(argc, argv, USAGE, table);
    int bad = !o->port || parse_count(o->port, 65535) <= 0 || o->size <= 0 || o->count < 0 ||
              o->duration <= 0 || o->warmup < 0 || (o->server ? !o->bind : !o->host);
    if (bad)
        usage_exit(USAGE, EXIT_USAGE);
}

/* Move exactly len bytes; 0 on success, -1 when the peer closed, -2 on errors (errno set). */
static int full(int fd, char *buf, size_t len, int sending) {
    long moved = move_all(fd, buf, len, sending);
    return moved == (long)len ? 0 : moved < 0 ? -2 : -1;
}

static int run_server(const struct opts *o) {
    int fd = accept_one(PROG, listen_on(PROG, strcmp(o->bind, "any") ? o->bind : NULL, o->port, 0));
    set_nodelay(fd);
    char *buf = malloc((size_t)o->size);
    if (!buf)
        die(PROG, errno, "allocating %lld bytes", o->size);
    unsigned long long exchanges = 0;
    for (;;) {
        int rc = full(fd, buf, (size_t)o->size, 0);
        if (rc == -1)
            break; /* the client is done */
        if (rc < 0 || full(fd, buf, (size_t)o->size, 1) < 0)
            die(PROG, stop_requested ? 0 : errno, "exchange %llu failed", exchanges + 1);
        exchanges++;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"tool\": \"dpb-pingpong\", \"role\": \"server\", \"message_size\": %lld, "
           "\"exchanges\": %llu, ", o->size, exchanges);
    json_rusage(&ru);
    printf("}\n");
    free(buf);
    close(fd);
    return 0;
}

static int run_client(const struct opts *o) {
    int fd = connect_to(PROG, o->host, o->port, 0);
    set_nodelay(fd);
    char *buf = calloc(1, (size_t)o->size);
    if (!buf)
        die(PROG, errno, "allocating %lld bytes", o->size);
    static struct histogram h;
    hist_init(&h);
    arm_timer(o->warmup + o->duration);
    uint64_t start = now_ns(), window = start + (uint64_t)(o->warmup * 1e9), measured_from = 0;
    uint64_t t = start;
    while (!stop_requested && (o->count == 0 || h.n < (uint64_t)o->count)) {
        uint64_t t0 = now_ns();
        int rc = full(fd, buf, (size_t)o->size, 1);
        if (rc == 0)
            rc = full(fd, buf, (size_t)o->size, 0);
        if (rc < 0 && stop_requested)
            break; /* the timer ended a round trip half-way: not recorded */
        if (rc < 0)
            die(PROG, rc == -2 ? errno : 0, "the server went away after %llu round trips",
                (unsigned long long)h.n);
        t = now_ns();
        if (t0 >= window) {
            if (!measured_from)
                measured_from = t0;
            hist_add(&h, t - t0);
        }
    }
    arm_timer(0);
    if (h.n == 0)
        die(PROG, 0, "no round trip completed after the %g s warm-up", o->warmup);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"tool\": \"dpb-pingpong\", \"role\": \"client\", \"message_size\": %lld, "
           "\"warmup_s\": %g, \"seconds\": %.9f, \"rtt_ns\": ",
           o->size, o->warmup, (double)(t - measured_from) / 1e9);
    hist_json(&h, 1.0);
    printf(", \"one_way_ns\": ");
    hist_json(&h, 2.0);
    printf(", \"one_way_is\": \"rtt / 2\", \"histogram_relative_error\": 0.004, ");
    json_rusage(&ru);
    printf("}\n");
    shutdown(fd, SHUT_WR);
    free(buf);
    close(fd);
    return 0;
}

int main(int argc, char **argv) {
    struct opts o;
    parse(argc, argv, &o);
    install_stop_handlers();
    return o.server ? run_server(&o) : run_client(&o);
}

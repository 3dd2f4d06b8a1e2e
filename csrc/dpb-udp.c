/* dpb-udp: UDP packet rate. The client sends datagrams of --size bytes (one send() each, a
 * sequence number in the first 8 bytes) as fast as it can for warm-up + duration (+ a short
 * tail); the server counts what arrives in the window that opens --warmup seconds after the
 * first datagram: datagrams per second, goodput, and the datagrams lost, from the sequence
 * numbers seen in the window. Each side prints one JSON object. */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define PROG "dpb-udp"
#define TAIL_S 0.2    /* the sender goes on this long so the receiver's window is full */
#define QUIET_S 1.0   /* the server stops this long after the window closed, or when idle */
#define MIN_SIZE 8    /* room for the sequence number */
#define MAX_SIZE 65507

static const char *USAGE =
    "usage: dpb-udp server --bind ADDR|any --port PORT [options]\n"
    "       dpb-udp client --host ADDR --port PORT --size BYTES [options]\n"
    "options:\n"
    "  --size BYTES   UDP payload per datagram, 8-65507 (client; required)\n"
    "  --duration S   measurement window in seconds (default 10)\n"
    "  --warmup S     seconds excluded before the window (default 2)\n"
    "  --help         this text\n"
    "The server serves one test and exits after its window; SIGINT/SIGTERM stop either side.\n";

struct opts {
    int server;
    const char *bind, *host, *port;
    long long size;
    double duration, warmup;
};

static void parse(int argc, char **argv, struct opts *o) {
    memset(o, 0, sizeof *o);
    o->duration = 10;
    o->warmup = 2;
    const struct opt table[] = {
        {"--bind", OPT_TEXT, &o->bind, 0},   {"--host", OPT_TEXT, &o->host, 0},
        {"--port", OPT_TEXT, &o->port, 0},   {"--size", OPT_COUNT, &o->size, MAX_SIZE},
        {"--duration", OPT_SECONDS, &o->duration, 0},
        {"--warmup", OPT_SECONDS, &o->warmup, 0}, {NULL, OPT_TEXT, NULL, 0}};
    o->server = parse_options(argc, argv, USAGE, table);
    int bad = !o->port || parse_count(o->port, 65535) <= 0 || o->duration <= 0 ||
              o->warmup < 0 || (o->server ? !o->bind : (!o->host || o->size < MIN_SIZE));
    if (bad)
        usage_exit(USAGE, EXIT_USAGE);
}

static void json_tail(int fd) {
    int snd, rcv;
    struct rusage ru;
    socket_buffers(fd, &snd, &rcv);
    getrusage(RUSAGE_SELF, &ru);
    printf("\"sndbuf_applied\": %d, \"rcvbuf_applied\": %d, ", snd, rcv);
    json_rusage(&ru);
    printf("}\n");
    close(fd);
}

static int run_client(const struct opts *o) {
    int fd = udp_socket(PROG, o->host, o->port, 0);
    unsigned char *buf = calloc(1, (size_t)o->size);
    if (!buf)
        die(PROG, errno, "allocating %lld bytes", o->size);
    arm_timer(o->warmup + o->duration + TAIL_S);
    unsigned long long sent = 0, bytes = 0, calls = 0, refused = 0, no_buffer = 0;
    uint64_t t0 = now_ns();
    while (!stop_requested) {
        uint64_t seq = sent;
        memcpy(buf, &seq, sizeof seq);
        ssize_t n = send(fd, buf, (size_t)o->size, 0);
        calls++;
        if (n < 0) {
            /* An ICMP error from an earlier datagram, or a full queue: count it, go on. */
            if (errno == ECONNREFUSED)
                refused++;
            else if (errno == ENOBUFS || errno == EAGAIN)
                no_buffer++;
            else if (errno != EINTR)
                die(PROG, errno, "send after %llu datagrams", sent);
            continue;
        }
        sent++;
        bytes += (unsigned long long)n;
    }
    uint64_t t1 = now_ns();
    printf("{\"tool\": \"dpb-udp\", \"role\": \"sender\", \"datagram_size\": %lld, "
           "\"datagrams\": %llu, \"bytes\": %llu, \"send_calls\": %llu, \"refused\": %llu, "
           "\"no_buffer\": %llu, \"seconds\": %.9f, \"warmup_s\": %g, \"duration_s\": %g, ",
           o->size, sent, bytes, calls, refused, no_buffer, (double)(t1 - t0) / 1e9, o->warmup,
           o->duration);
    json_tail(fd);
    free(buf);
    return 0;
}

static int run_server(const struct opts *o) {
    int fd = udp_socket(PROG, strcmp(o->bind, "any") ? o->bind : NULL, o->port, 1);
    struct timeval tick = {.tv_sec = 0, .tv_usec = 100000}; /* to look at the clock when idle */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
    unsigned char *buf = malloc(MAX_SIZE + 1);
    if (!buf)
        die(PROG, errno, "allocating %d bytes", MAX_SIZE + 1);
    unsigned long long total = 0, window_datagrams = 0, window_bytes = 0, short_ones = 0;
    uint64_t first = 0, ws = 0, we = 0, last = 0, seq_min = UINT64_MAX, seq_max = 0;
    long long size = -1;
    while (!stop_requested) {
        ssize_t n = recv(fd, buf, MAX_SIZE + 1, 0);
        uint64_t t = now_ns();
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                die(PROG, errno, "recv after %llu datagrams", total);
            if (first && (t > we + (uint64_t)(QUIET_S * 1e9) ||
                          t > last + (uint64_t)(QUIET_S * 1e9)))
                break;
            continue;
        }
        if (n < MIN_SIZE) {
            short_ones++;
            continue;
        }
        if (first == 0) {
            first = t;
            ws = first + (uint64_t)(o->warmup * 1e9);
            we = ws + (uint64_t)(o->duration * 1e9);
            size = n;
        }
        last = t;
        total++;
        if (t > ws && t <= we) {
            uint64_t seq;
            memcpy(&seq, buf, sizeof seq);
            window_datagrams++;
            window_bytes += (unsigned long long)n;
            if (seq < seq_min)
                seq_min = seq;
            if (seq > seq_max)
                seq_max = seq;
        }
        if (t > we + (uint64_t)(QUIET_S * 1e9))
            break;
    }
    if (first == 0)
        die(PROG, 0, stop_requested ? "stopped by a signal before any datagram arrived"
                                    : "no datagram arrived");
    if (window_datagrams == 0)
        die(PROG, 0, "the sender stopped after %llu datagrams, before the measurement window",
            total);
    int ended_early = last < we;
    double window_s = (double)((ended_early ? last : we) - ws) / 1e9;
    unsigned long long expected = seq_max - seq_min + 1;
    unsigned long long lost = expected > window_datagrams ? expected - window_datagrams : 0;
    printf("{\"tool\": \"dpb-udp\", \"role\": \"receiver\", \"datagram_size\": %lld, "
           "\"datagrams\": %llu, \"window_datagrams\": %llu, \"window_bytes\": %llu, "
           "\"window_s\": %.9f, \"packets_per_s\": %.1f, \"goodput_bps\": %.1f, "
           "\"expected\": %llu, \"lost\": %llu, \"loss_pct\": %.6f, \"short_datagrams\": %llu, "
           "\"ended_early\": %s, \"warmup_s\": %g, \"duration_s\": %g, ",
           size, total, window_datagrams, window_bytes, window_s,
           window_s > 0 ? (double)window_datagrams / window_s : 0.0,
           window_s > 0 ? (double)window_bytes * 8.0 / window_s : 0.0, expected, lost,
           100.0 * (double)lost / (double)expected, short_ones, ended_early ? "true" : "false",
           o->warmup, o->duration);
    json_tail(fd);
    free(buf);
    return 0;
}

int main(int argc, char **argv) {
    struct opts o;
    parse(argc, argv, &o);
    install_stop_handlers();
    return o.server ? run_server(&o) : run_client(&o);
}

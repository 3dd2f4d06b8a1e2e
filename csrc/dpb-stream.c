/* dpb-stream: TCP throughput. The client sends messages of --size bytes (one send() each) for
 * warm-up + duration (+ a short tail) on --streams connections at once, one thread each; the
 * server receives every flow and measures goodput over one window that opens --warmup seconds
 * after the first byte of any flow: the sum, and each flow's share of it. Each side prints one
 * JSON object. */
#include "common.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROG "dpb-stream"
#define TAIL_S 0.2 /* the sender goes on this long so the receiver's window is full */
#define MAX_STREAMS 64

static const char *USAGE =
    "usage: dpb-stream server --bind ADDR|any --port PORT [options]\n"
    "       dpb-stream client --host ADDR --port PORT --size BYTES [options]\n"
    "options:\n"
    "  --size BYTES      bytes per send() (client; required)\n"
    "  --recv-size BYTES bytes per recv() (server; default 65536)\n"
    "  --sockbuf BYTES   SO_SNDBUF and SO_RCVBUF on this side (default: kernel autotuning)\n"
    "  --duration S      measurement window in seconds (default 10)\n"
    "  --warmup S        seconds excluded before the window (default 2)\n"
    "  --streams N       concurrent TCP connections, one thread each (1-64, default 1;\n"
    "                    both sides must be given the same N)\n"
    "  --nodelay         set TCP_NODELAY (default off, like qperf)\n"
    "  --help            this text\n"
    "The server serves one test and exits; SIGINT/SIGTERM stop either side.\n";

struct opts {
    int server;
    const char *bind, *host, *port;
    long long size, recv_size, sockbuf, streams;
    double duration, warmup;
    int nodelay;
};

static void parse(int argc, char **argv, struct opts *o) {
    memset(o, 0, sizeof *o);
    o->recv_size = 65536;
    o->duration = 10;
    o->warmup = 2;
    o->streams = 1;
    const struct opt table[] = {
        {"--bind", OPT_TEXT, &o->bind, 0},       {"--host", OPT_TEXT, &o->host, 0},
        {"--port", OPT_TEXT, &o->port, 0},       {"--size", OPT_COUNT, &o->size, 1 << 30},
        {"--recv-size", OPT_COUNT, &o->recv_size, 1 << 30},
        {"--sockbuf", OPT_COUNT, &o->sockbuf, 1 << 30},
        {"--streams", OPT_COUNT, &o->streams, MAX_STREAMS},
        {"--duration", OPT_SECONDS, &o->duration, 0},
        {"--warmup", OPT_SECONDS, &o->warmup, 0}, {"--nodelay", OPT_FLAG, &o->nodelay, 0},
        {NULL, OPT_TEXT, NULL, 0}};
    o->server = parse_options(argc, argv, USAGE, table);
    int bad = !o->port || parse_count(o->port, 65535) <= 0 || o->recv_size <= 0 ||
              o->sockbuf < 0 || o->streams < 1 || o->duration <= 0 || o->warmup < 0 ||
              (o->server ? !o->bind : (!o->host || o->size <= 0));
    if (bad)
        usage_exit(USAGE, EXIT_USAGE);
}

/* The fields both roles end with: the socket buffers as applied, the rusage; then close. */
static void json_tail_and_close(int fd, long long requested) {
    int snd, rcv;
    struct rusage ru;
    socket_buffers(fd, &snd, &rcv);
    getrusage(RUSAGE_SELF, &ru);
    printf("\"sockbuf_requested\": %lld, \"sndbuf_applied\": %d, \"rcvbuf_applied\": %d, ",
           requested, snd, rcv);
    json_rusage(&ru);
    printf("}\n");
    close(fd);
}

struct sender {
    const struct opts *o;
    int fd;
    unsigned long long bytes, calls, messages;
};

static void *send_flow(void *arg) {
    struct sender *f = arg;
    const struct opts *o = f->o;
    char *buf = calloc(1, (size_t)o->size);
    if (!buf)
        die(PROG, errno, "allocating %lld bytes", o->size);
    while (!stop_requested) {
        size_t off = 0;
        while (off < (size_t)o->size && !stop_requested) {
            ssize_t n = send(f->fd, buf + off, (size_t)o->size - off, 0);
            f->calls++;
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                die(PROG, errno, "the receiver went away after %llu bytes", f->bytes);
            }
            off += (size_t)n;
            f->bytes += (unsigned long long)n;
        }
        if (off == (size_t)o->size)
            f->messages++;
    }
    free(buf);
    return NULL;
}

static int run_client(const struct opts *o) {
    char port[8];
    snprintf(port, sizeof port, "%s", o->port);
    struct sender flows[MAX_STREAMS];
    pthread_t threads[MAX_STREAMS];
    int nd = o->nodelay;
    for (int i = 0; i < o->streams; i++) {
        flows[i] = (struct sender){.o = o, .fd = connect_to(PROG, o->host, port, (int)o->sockbuf)};
        setsockopt(flows[i].fd, IPPROTO_TCP, TCP_NODELAY, &nd, sizeof nd);
    }
    arm_timer(o->warmup + o->duration + TAIL_S);
    uint64_t t0 = now_ns();
    for (int i = 0; i < o->streams; i++)
        if ((errno = pthread_create(&threads[i], NULL, send_flow, &flows[i])))
            die(PROG, errno, "starting flow %d", i + 1);
    unsigned long long bytes = 0, calls = 0, messages = 0;
    for (int i = 0; i < o->streams; i++) {
        pthread_join(threads[i], NULL);
        bytes += flows[i].bytes, calls += flows[i].calls, messages += flows[i].messages;
    }
    uint64_t t1 = now_ns();
    char drain[256];
    for (int i = 0; i < o->streams; i++) /* all first: the server answers when every flow ended */
        shutdown(flows[i].fd, SHUT_WR);
    for (int i = 0; i < o->streams; i++)
        while (recv(flows[i].fd, drain, sizeof drain, 0) > 0) {
        }
    printf("{\"tool\": \"dpb-stream\", \"role\": \"sender\", \"message_size\": %lld, "
           "\"nodelay\": %s, \"streams\": %lld, \"bytes\": %llu, \"messages\": %llu, "
           "\"send_calls\": %llu, \"seconds\": %.9f, \"warmup_s\": %g, \"duration_s\": %g, "
           "\"flows\": [",
           o->size, o->nodelay ? "true" : "false", o->streams, bytes, messages, calls,
           (double)(t1 - t0) / 1e9, o->warmup, o->duration);
    for (int i = 0; i < o->streams; i++)
        printf("%s{\"bytes\": %llu}", i ? ", " : "", flows[i].bytes);
    printf("], ");
    for (int i = 1; i < o->streams; i++)
        close(flows[i].fd);
    json_tail_and_close(flows[0].fd, o->sockbuf);
    return 0;
}

/* The receiving side: one window for every flow, opened by the first byte of any of them. */
static _Atomic uint64_t first_byte_ns;

struct receiver {
    const struct opts *o;
    int fd;
    unsigned long long total, window_bytes, calls;
    uint64_t last_in_window;
    int ended_early;
};

static void *receive_flow(void *arg) {
    struct receiver *f = arg;
    const struct opts *o = f->o;
    char *buf = malloc((size_t)o->recv_size);
    if (!buf)
        die(PROG, errno, "allocating %lld bytes", o->recv_size);
    uint64_t ws = 0, we = 0;
    for (;;) {
        ssize_t n = recv(f->fd, buf, (size_t)o->recv_size, 0);
        f->calls++;
        if (n < 0) {
            if (errno == EINTR && !stop_requested)
                continue;
            die(PROG, stop_requested ? 0 : errno,
                stop_requested ? "stopped by a signal after %llu bytes"
                               : "the sender went away after %llu bytes", f->total);
        }
        uint64_t t = now_ns();
        if (n == 0) {
            f->ended_early = ws == 0 || t < we;
            break;
        }
        if (ws == 0) {
            uint64_t none = 0;
            atomic_compare_exchange_strong(&first_byte_ns, &none, t);
            ws = atomic_load(&first_byte_ns) + (uint64_t)(o->warmup * 1e9);
            we = ws + (uint64_t)(o->duration * 1e9);
        }
        f->total += (unsigned long long)n;
        if (t > ws && t <= we) {
            f->window_bytes += (unsigned long long)n;
            f->last_in_window = t;
        }
    }
    free(buf);
    return NULL;
}

static int run_server(const struct opts *o) {
    int lfd = listen_on(PROG, strcmp(o->bind, "any") ? o->bind : NULL, o->port, (int)o->sockbuf);
    struct receiver flows[MAX_STREAMS];
    pthread_t threads[MAX_STREAMS];
    for (int i = 0; i < o->streams; i++)
        flows[i] = (struct receiver){.o = o, .fd = accept_next(PROG, lfd)};
    close(lfd);
    for (int i = 0; i < o->streams; i++)
        if ((errno = pthread_create(&threads[i], NULL, receive_flow, &flows[i])))
            die(PROG, errno, "starting flow %d", i + 1);
    unsigned long long total = 0, window_bytes = 0, calls = 0;
    uint64_t last_in_window = 0;
    int ended_early = 0;
    for (int i = 0; i < o->streams; i++) {
        pthread_join(threads[i], NULL);
        total += flows[i].total, window_bytes += flows[i].window_bytes, calls += flows[i].calls;
        ended_early |= flows[i].ended_early;
        if (flows[i].last_in_window > last_in_window)
            last_in_window = flows[i].last_in_window;
    }
    uint64_t first = atomic_load(&first_byte_ns);
    if (first == 0 || last_in_window == 0)
        die(PROG, 0, "the sender closed after %llu bytes, before the measurement window", total);
    uint64_t ws = first + (uint64_t)(o->warmup * 1e9), we = ws + (uint64_t)(o->duration * 1e9);
    /* A flow that ended before the window closed shortens it for all: the sum stays a rate. */
    double window_s = (double)((ended_early ? last_in_window : we) - ws) / 1e9;
    double per_s = window_s > 0 ? 8.0 / window_s : 0.0;
    printf("{\"tool\": \"dpb-stream\", \"role\": \"receiver\", \"recv_size\": %lld, "
           "\"streams\": %lld, \"bytes\": %llu, \"recv_calls\": %llu, \"window_bytes\": %llu, "
           "\"window_s\": %.9f, \"goodput_bps\": %.1f, \"ended_early\": %s, "
           "\"warmup_s\": %g, \"duration_s\": %g, \"flows\": [",
           o->recv_size, o->streams, total, calls, window_bytes, window_s,
           (double)window_bytes * per_s, ended_early ? "true" : "false", o->warmup, o->duration);
    for (int i = 0; i < o->streams; i++)
        printf("%s{\"window_bytes\": %llu, \"goodput_bps\": %.1f}", i ? ", " : "",
               flows[i].window_bytes, (double)flows[i].window_bytes * per_s);
    printf("], ");
    for (int i = 1; i < o->streams; i++)
        close(flows[i].fd);
    json_tail_and_close(flows[0].fd, o->sockbuf);
    return 0;
}

int main(int argc, char **argv) {
    struct opts o;
    parse(argc, argv, &o);
    install_stop_handlers();
    return o.server ? run_server(&o) : run_client(&o);
}

/* dpb-stream: TCP throughput. The client sends messages of --size bytes (one send() each) for
 * warm-up + duration (+ a short tail); the server receives and measures goodput over the window
 * that opens --warmup seconds after the first byte. Each side prints one JSON object. */
#include "common.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROG "dpb-stream"
#define TAIL_S 0.2 /* the sender goes on this long so the receiver's window is full */

static const char *USAGE =
    "usage: dpb-stream server --bind ADDR|any --port PORT [options]\n"
    "       dpb-stream client --host ADDR --port PORT --size BYTES [options]\n"
    "options:\n"
    "  --size BYTES      bytes per send() (client; required)\n"
    "  --recv-size BYTES bytes per recv() (server; default 65536)\n"
    "  --sockbuf BYTES   SO_SNDBUF and SO_RCVBUF on this side (default: kernel autotuning)\n"
    "  --duration S      measurement window in seconds (default 10)\n"
    "  --warmup S        seconds excluded before the window (default 2)\n"
    "  --nodelay         set TCP_NODELAY (default off, like qperf)\n"
    "  --help            this text\n"
    "The server serves one test and exits; SIGINT/SIGTERM stop either side.\n";

struct opts {
    int server;
    const char *bind, *host, *port;
    long long size, recv_size, sockbuf;
    double duration, warmup;
    int nodelay;
};

static void parse(int argc, char **argv, struct opts *o) {
    memset(o, 0, sizeof *o);
    o->recv_size = 65536;
    o->duration = 10;
    o->warmup = 2;
    if (argc >= 2 && strcmp(argv[1], "--help") == 0)
        usage_exit(USAGE, 0);
    if (argc < 2 || (strcmp(argv[1], "server") && strcmp(argv[1], "client")))
        usage_exit(USAGE, EXIT_USAGE);
    o->server = strcmp(argv[1], "server") == 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help"))
            usage_exit(USAGE, 0);
        else if (!strcmp(a, "--nodelay"))
            o->nodelay = 1;
        else if (!v)
            usage_exit(USAGE, EXIT_USAGE);
        else if (!strcmp(a, "--bind"))
            o->bind = v, i++;
        else if (!strcmp(a, "--host"))
            o->host = v, i++;
        else if (!strcmp(a, "--port"))
            o->port = v, i++;
        else if (!strcmp(a, "--size"))
            o->size = parse_count(v, 1 << 30), i++;
        else if (!strcmp(a, "--recv-size"))
            o->recv_size = parse_count(v, 1 << 30), i++;
        else if (!strcmp(a, "--sockbuf"))
            o->sockbuf = parse_count(v, 1 << 30), i++;
        else if (!strcmp(a, "--duration"))
            o->duration = parse_seconds(v), i++;
        else if (!strcmp(a, "--warmup"))
            o->warmup = parse_seconds(v), i++;
        else
            usage_exit(USAGE, EXIT_USAGE);
    }
    int bad = !o->port || parse_count(o->port, 65535) <= 0 || o->recv_size <= 0 ||
              o->sockbuf < 0 || o->duration <= 0 || o->warmup < 0 ||
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

static int run_client(const struct opts *o) {
    char port[8];
    snprintf(port, sizeof port, "%s", o->port);
    int fd = connect_to(PROG, o->host, port, (int)o->sockbuf);
    int nd = o->nodelay;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nd, sizeof nd);
    char *buf = calloc(1, (size_t)o->size);
    if (!buf)
        die(PROG, errno, "allocating %lld bytes", o->size);
    arm_timer(o->warmup + o->duration + TAIL_S);
    unsigned long long bytes = 0, calls = 0, messages = 0;
    uint64_t t0 = now_ns();
    while (!stop_requested) {
        size_t off = 0;
        while (off < (size_t)o->size && !stop_requested) {
            ssize_t n = send(fd, buf + off, (size_t)o->size - off, 0);
            calls++;
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                die(PROG, errno, "the receiver went away after %llu bytes", bytes);
            }
            off += (size_t)n;
            bytes += (unsigned long long)n;
        }
        if (off == (size_t)o->size)
            messages++;
    }
    uint64_t t1 = now_ns();
    shutdown(fd, SHUT_WR);
    char drain[256];
    while (recv(fd, drain, sizeof drain, 0) > 0) {
    }
    printf("{\"tool\": \"dpb-stream\", \"role\": \"sender\", \"message_size\": %lld, "
           "\"nodelay\": %s, \"bytes\": %llu, \"messages\": %llu, \"send_calls\": %llu, "
           "\"seconds\": %.9f, \"warmup_s\": %g, \"duration_s\": %g, ",
           o->size, o->nodelay ? "true" : "false", bytes, messages, calls, (double)(t1 - t0) / 1e9,
           o->warmup, o->duration);
    json_tail_and_close(fd, o->sockbuf);
    free(buf);
    return 0;
}

static int run_server(const struct opts *o) {
    int lfd = listen_on(PROG, strcmp(o->bind, "any") ? o->bind : NULL, o->port, (int)o->sockbuf);
    int fd = accept_one(PROG, lfd);
    char *buf = malloc((size_t)o->recv_size);
    if (!buf)
        die(PROG, errno, "allocating %lld bytes", o->recv_size);
    unsigned long long total = 0, window_bytes = 0, calls = 0;
    uint64_t first = 0, ws = 0, we = 0, last_in_window = 0;
    int ended_early = 0;
    for (;;) {
        ssize_t n = recv(fd, buf, (size_t)o->recv_size, 0);
        calls++;
        if (n < 0) {
            if (errno == EINTR && !stop_requested)
                continue;
            die(PROG, stop_requested ? 0 : errno,
                stop_requested ? "stopped by a signal after %llu bytes"
                               : "the sender went away after %llu bytes", total);
        }
        uint64_t t = now_ns();
        if (n == 0) {
            ended_early = first == 0 || t < we;
            break;
        }
        if (first == 0) {
            first = t;
            ws = first + (uint64_t)(o->warmup * 1e9);
            we = ws + (uint64_t)(o->duration * 1e9);
        }
        total += (unsigned long long)n;
        if (t > ws && t <= we) {
            window_bytes += (unsigned long long)n;
            last_in_window = t;
        }
    }
    if (first == 0 || last_in_window == 0)
        die(PROG, 0, "the sender closed after %llu bytes, before the measurement window", total);
    double window_s = (double)((ended_early ? last_in_window : we) - ws) / 1e9;
    printf("{\"tool\": \"dpb-stream\", \"role\": \"receiver\", \"recv_size\": %lld, "
           "\"bytes\": %llu, \"recv_calls\": %llu, \"window_bytes\": %llu, "
           "\"window_s\": %.9f, \"goodput_bps\": %.1f, \"ended_early\": %s, "
           "\"warmup_s\": %g, \"duration_s\": %g, ",
           o->recv_size, total, calls, window_bytes, window_s,
           window_s > 0 ? (double)window_bytes * 8.0 / window_s : 0.0,
           ended_early ? "true" : "false", o->warmup, o->duration);
    json_tail_and_close(fd, o->sockbuf);
    free(buf);
    return 0;
}

int main(int argc, char **argv) {
    struct opts o;
    parse(argc, argv, &o);
    install_stop_handlers();
    return o.server ? run_server(&o) : run_client(&o);
}

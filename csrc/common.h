/* Shared helpers of the dataplane-bench measurement programs: errors, time, sockets, JSON. */
#ifndef DPB_COMMON_H
#define DPB_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

#define EXIT_USAGE 2

/* Print "PROG: message" (and strerror when errnum != 0) on stderr and exit 1. */
void die(const char *prog, int errnum, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

/* Print the usage text on stderr (or stdout for --help) and exit with code. */
void usage_exit(const char *usage, int code) __attribute__((noreturn));

uint64_t now_ns(void); /* CLOCK_MONOTONIC */

/* Parse a non-negative integer (plain decimal, no suffix); return -1 when invalid. */
long long parse_count(const char *text, long long max);
/* Parse seconds as a decimal number (e.g. "2" or "0.5"); return -1 when invalid. */
double parse_seconds(const char *text);

/* Command lines: `PROG server|client --name value … [--flag …]`, read against a table of the
   options a program takes. Values are checked as they are read (a count within its max,
   seconds within a day); anything else — an unknown option, a value missing or out of range —
   prints the usage on stderr and exits EXIT_USAGE; --help prints it on stdout and exits 0. */
enum opt_kind { OPT_TEXT, OPT_COUNT, OPT_SECONDS, OPT_FLAG };
struct opt {
    const char *name;     /* "--size" */
    enum opt_kind kind;
    void *target;         /* const char **, long long *, double * or int * */
    long long max;        /* OPT_COUNT: the largest value allowed */
};
/* Fill the table's targets from argv[2..]; return 1 for "server", 0 for "client". The table
   ends with an entry whose name is NULL. */
int parse_options(int argc, char **argv, const char *usage, const struct opt *table);

struct addrinfo;
/* addr:port as numeric host and service (a bad one prints why and exits EXIT_USAGE). */
struct addrinfo *resolve(const char *prog, const char *addr, const char *port, int passive,
                         int socktype);
/* TCP_NODELAY on a socket. */
void set_nodelay(int fd);
/* Send or receive exactly len bytes (EINTR retried unless a stop was requested): len, or the
   bytes moved before the peer closed, or -1 with errno set. */
long move_all(int fd, char *buf, size_t len, int sending);

/* A TCP socket bound to addr:port and listening. */
int listen_on(const char *prog, const char *addr, const char *port, int sockbuf);
/* A UDP socket bound to addr:port (bind_it), or connected to it. */
int udp_socket(const char *prog, const char *addr, const char *port, int bind_it);
/* A TCP socket connected to addr:port. */
int connect_to(const char *prog, const char *addr, const char *port, int sockbuf);
/* Accept one connection and close the listening socket. */
int accept_one(const char *prog, int lfd);
/* Accept the next connection; the listening socket stays open. */
int accept_next(const char *prog, int lfd);

/* SO_SNDBUF and SO_RCVBUF of a socket, as the kernel reports them. */
void socket_buffers(int fd, int *sndbuf, int *rcvbuf);

/* Stop flag set by SIGALRM / SIGINT / SIGTERM handlers; install_stop_handlers arms them. */
extern volatile int stop_requested;
void install_stop_handlers(void);
void arm_timer(double seconds); /* SIGALRM after seconds (0 = disarm) */

void json_rusage(const struct rusage *ru);
#endif

/* dpb-cpusnap: CPU snapshots for the measurement window. Each snapshot is
 *   ### dataplane-bench cpu snapshot
 *   <wall clock, seconds.nanoseconds>
 *   <the contents of /proc/uptime>
 *   monotonic <CLOCK_MONOTONIC, seconds.nanoseconds>
 *   <the "cpu" lines of /proc/stat: aggregate, then one per CPU>
 * once, or --count times every --interval seconds. One read() of /proc/stat per snapshot. */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROG "dpb-cpusnap"

static const char *USAGE =
    "usage: dpb-cpusnap [--interval S] [--count N]\n"
    "  --interval S  seconds between snapshots (default 1)\n"
    "  --count N     number of snapshots (default 1)\n"
    "  --help        this text\n";

static size_t slurp(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die(PROG, errno, "open %s", path);
    size_t len = 0;
    ssize_t n;
    while ((n = read(fd, buf + len, size - 1 - len)) > 0)
        len += (size_t)n;
    if (n < 0)
        die(PROG, errno, "read %s", path);
    close(fd);
    buf[len] = 0;
    return len;
}

static void snapshot(void) {
    static char stat[1 << 20], uptime[128];
    struct timespec wall, mono;
    clock_gettime(CLOCK_REALTIME, &wall);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    slurp("/proc/stat", stat, sizeof stat);
    slurp("/proc/uptime", uptime, sizeof uptime);
    printf("### dataplane-bench cpu snapshot\n%lld.%09ld\n%smonotonic %lld.%09ld\n",
           (long long)wall.tv_sec, wall.tv_nsec, uptime, (long long)mono.tv_sec, mono.tv_nsec);
    for (char *line = strtok(stat, "\n"); line; line = strtok(NULL, "\n"))
        if (strncmp(line, "cpu", 3) == 0)
            puts(line);
    fflush(stdout);
}

int main(int argc, char **argv) {
    double interval = 1;
    long long count = 1;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--help"))
            usage_exit(USAGE, 0);
        else if (!strcmp(argv[i], "--interval") && v)
            interval = parse_seconds(v), i++;
        else if (!strcmp(argv[i], "--count") && v)
            count = parse_count(v, 1 << 30), i++;
        else
            usage_exit(USAGE, EXIT_USAGE);
    }
    if (interval <= 0 || count <= 0)
        usage_exit(USAGE, EXIT_USAGE);
    install_stop_handlers();
    for (long long k = 0; k < count && !stop_requested; k++) {
        if (k) {
            struct timespec ts = {(time_t)interval,
                                  (long)((interval - (double)(time_t)interval) * 1e9)};
            while (nanosleep(&ts, &ts) && errno == EINTR && !stop_requested) {
            }
            if (stop_requested)
                break;
        }
        snapshot();
    }
    return 0;
}

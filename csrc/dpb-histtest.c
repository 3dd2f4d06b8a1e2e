/* dpb-histtest: feeds the integers on stdin (one per line) to the histogram and prints its
 * summary as JSON — the tests compare it with percentiles of the sorted values. */
#include "common.h"
#include "histogram.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc > 1) {
        usage_exit("usage: dpb-histtest < values (one non-negative integer per line)\n",
                   strcmp(argv[1], "--help") == 0 ? 0 : EXIT_USAGE);
    }
    static struct histogram h;
    hist_init(&h);
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        long long v = parse_count(line, (long long)1 << 62);
        if (v < 0)
            die("dpb-histtest", 0, "not a non-negative integer: %s", line);
        hist_add(&h, (uint64_t)v);
    }
    hist_json(&h, 1.0);
    putchar('\n');
    return 0;
}

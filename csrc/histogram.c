#include "histogram.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static unsigned index_of(uint64_t v) {
    if (v < 256)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= 8 */
    unsigned shift = e - 7u;
    unsigned sub = (unsigned)(v >> shift); /* 128 .. 255 */
    return 256u + (e - 8u) * 128u + (sub - 128u);
}

static uint64_t midpoint_of(unsigned idx) {
    if (idx < 256)
        return idx;
    unsigned e = (idx - 256u) / 128u + 8u, sub = (idx - 256u) % 128u + 128u, shift = e - 7u;
    uint64_t low = (uint64_t)sub << shift;
    uint64_t width = (uint64_t)1 << shift;
    return low + (width - 1) / 2;
}

void hist_init(struct histogram *h) {
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

void hist_add(struct histogram *h, uint64_t value) {
    h->counts[index_of(value)]++;
    h->n++;
    h->sum += (long double)value;
    if (value < h->min)
        h->min = value;
    if (value > h->max)
        h->max = value;
}

uint64_t hist_percentile(const struct histogram *h, double p) {
    if (h->n == 0)
        return 0;
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->n);
    if (rank < 1)
        rank = 1;
    if (rank > h->n)
        rank = h->n;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t v = midpoint_of(i);
            return v < h->min ? h->min : v > h->max ? h->max : v;
        }
    }
    return h->max;
}

double hist_mean(const struct histogram *h) {
    return h->n ? (double)(h->sum / (long double)h->n) : 0.0;
}

void hist_json(const struct histogram *h, double divisor) {
    printf("{\"count\": %llu, \"mean\": %.3f, \"min\": %.3f, \"max\": %.3f, \"p50\": %.3f, "
           "\"p90\": %.3f, \"p99\": %.3f, \"p99.9\": %.3f}",
           (unsigned long long)h->n, hist_mean(h) / divisor,
           (double)(h->n ? h->min : 0) / divisor, (double)h->max / divisor,
           (double)hist_percentile(h, 50) / divisor, (double)hist_percentile(h, 90) / divisor,
           (double)hist_percentile(h, 99) / divisor, (double)hist_percentile(h, 99.9) / divisor);
}

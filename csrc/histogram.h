/* A log-bucketed histogram of nanosecond values: exact below 256, then 128 buckets per power of
 * two; a percentile is its bucket's midpoint, within 1/256 (0.4 %) of the true value. */
#ifndef DPB_HISTOGRAM_H
#define DPB_HISTOGRAM_H

#include <stdint.h>

#define HIST_SUB_BITS 8
#define HIST_BUCKETS (256 + (64 - HIST_SUB_BITS) * 128)

struct histogram {
    uint64_t counts[HIST_BUCKETS];
    uint64_t n, min, max;
    long double sum;
};

void hist_init(struct histogram *h);
void hist_add(struct histogram *h, uint64_t value);
/* The p-th percentile (0 < p <= 100): the smallest value with at least p % of values <= it. */
uint64_t hist_percentile(const struct histogram *h, double p);
double hist_mean(const struct histogram *h);
/* Print {"count", "mean", "min", "max", "p50", "p90", "p99", "p99.9"} with values / divisor. */
void hist_json(const struct histogram *h, double divisor);
#endif

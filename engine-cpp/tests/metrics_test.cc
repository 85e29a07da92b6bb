// The Prometheus text the engine is scraped in: cumulative buckets with +Inf, sum and count,
// labels joined with `le`, integers printed exactly.
#include "metrics.h"

#include <gtest/gtest.h>

namespace hft::engine::server {
namespace {

TEST(Histogram, CountsEachValueInItsBucketAndCumulates) {
  Histogram h({1, 10, 100});
  for (double v : {0.5, 1.0, 3.0, 10.0, 99.0, 1000.0}) h.observe(v);
  const Histogram::Totals t = h.totals();
  EXPECT_EQ(t.cumulative, (std::vector<uint64_t>{2, 4, 5, 6}));  // <=1, <=10, <=100, +Inf
  EXPECT_EQ(t.count, 6u);
  EXPECT_DOUBLE_EQ(t.sum, 1113.5);
}

TEST(Histogram, ObservingAllAtOnceCountsAsObservingEach) {
  Histogram one_by_one({1, 10, 100}), at_once({1, 10, 100});
  const std::vector<double> values = {0.5, 1.0, 3.0, 10.0, 99.0, 1000.0, 7.0};
  for (double v : values) one_by_one.observe(v);
  at_once.observe_all(values);
  at_once.observe_all({});
  EXPECT_EQ(at_once.totals().cumulative, one_by_one.totals().cumulative);
  EXPECT_EQ(at_once.totals().count, 7u);
  EXPECT_DOUBLE_EQ(at_once.totals().sum, one_by_one.totals().sum);
}

TEST(MicrosecondBuckets, RunFromOneMicrosecondToTenSecondsInOneTwoFiveSteps) {
  const std::vector<double> b = microsecond_buckets();
  ASSERT_EQ(b.size(), 22u);
  EXPECT_EQ(b.front(), 1);
  EXPECT_EQ(b[1], 2);
  EXPECT_EQ(b[2], 5);
  EXPECT_EQ(b.back(), 1e7);
}

TEST(PrometheusText, WritesFamiliesSamplesAndHistograms) {
  PrometheusText out;
  out.family("x_total", "counter", "Things.");
  out.sample("x_total", "type=\"a\"", 12345678901);
  out.sample("x_total", "", 0.25);
  Histogram h({1, 2});
  h.observe(1.5);
  out.family("lat_us", "histogram", "Latency.");
  out.histogram("lat_us", "stage=\"applied\"", h);
  out.histogram("lat_us", "", h);
  EXPECT_EQ(out.text(),
            "# HELP x_total Things.\n"
            "# TYPE x_total counter\n"
            "x_total{type=\"a\"} 12345678901\n"
            "x_total 0.25\n"
            "# HELP lat_us Latency.\n"
            "# TYPE lat_us histogram\n"
            "lat_us_bucket{stage=\"applied\",le=\"1\"} 0\n"
            "lat_us_bucket{stage=\"applied\",le=\"2\"} 1\n"
            "lat_us_bucket{stage=\"applied\",le=\"+Inf\"} 1\n"
            "lat_us_sum{stage=\"applied\"} 1.5\n"
            "lat_us_count{stage=\"applied\"} 1\n"
            "lat_us_bucket{le=\"1\"} 0\n"
            "lat_us_bucket{le=\"2\"} 1\n"
            "lat_us_bucket{le=\"+Inf\"} 1\n"
            "lat_us_sum 1.5\n"
            "lat_us_count 1\n");
}

}  // namespace
}  // namespace hft::engine::server

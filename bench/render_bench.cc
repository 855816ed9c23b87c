// render_bench: 1,000,000 personalized messages rendered from one template with five variables
// (customer.name, attr.city, tag.兴趣/产品A.score, owner.name and the tracked link), one core:
// the template is compiled once (CompiledTemplate::Compile: checks, kainjow parse) and rendered
// for each message (CompiledTemplate::Render: values escaped for their field, limits checked on
// the output). Profiles come from a pool of 10,000 generated ones with 2-6 attributes and 3-20
// tags each; every message gets its own customer id and link. Target: <= 5 s of CPU for the
// million (docs/performance.md "Templates"); exits 1 on a miss. Run on purpose.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "campaigns/render/renderer.h"
#include "src/core/random.h"

namespace {

using scrm::render::CompiledTemplate;
using scrm::render::Placeholders;
using scrm::render::RenderProfile;

constexpr int kMessages = 1'000'000;
constexpr int kProfiles = 10'000;
constexpr double kTargetSeconds = 5.0;

const char* const kCities[] = {"杭州", "上海", "北京", "深圳", "广州", "成都", "南京", "武汉"};
const char* const kNames[] = {"李四", "王五", "赵六", "陈晨", "周杰", "吴敏", "郑爽", "孙丽"};

// CPU time of the calling thread: on a shared machine the wall clock also counts the time other
// processes took.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::vector<RenderProfile> MakeProfiles() {
  scrm::core::FakeRandom random(20261207);
  auto below = [&random](uint64_t n) { return static_cast<size_t>(random.NextU64() % n); };
  std::vector<RenderProfile> profiles(kProfiles);
  for (int i = 0; i < kProfiles; ++i) {
    RenderProfile& p = profiles[static_cast<size_t>(i)];
    p.customer_id = i + 1;
    p.name = std::string(kNames[below(8)]) + std::to_string(i);
    p.stage = "engaged";
    if (below(10) != 0) p.attributes["city"] = kCities[below(8)];  // 10 % without a city
    for (size_t a = 0, n = 1 + below(5); a < n; ++a) {
      p.attributes["attr" + std::to_string(a)] = "value" + std::to_string(below(1000));
    }
    for (size_t t = 0, n = 3 + below(18); t < n; ++t) {
      p.tags["兴趣/产品" + std::to_string(below(50))] =
          scrm::render::TagValue{static_cast<double>(below(50)) / 10.0, below(2) == 0};
    }
    p.tags["兴趣/产品A"] = scrm::render::TagValue{static_cast<double>(below(100)) / 10.0, true};
    p.owner_userid = "staff" + std::to_string(below(200));
    p.owner_name = "顾问" + std::to_string(below(200));
  }
  return profiles;
}

}  // namespace

int main() {
  scrm::model::WecomMessageContent content;
  content.text =
      "{{customer.name}}，您好！我是您的专属顾问{{owner.name}}。{{#attr.city}}{{attr.city}}门店"
      "{{/attr.city}}新品已到货，您对产品A的关注度 {{tag.兴趣/产品A.score}}，专属链接：{{link}}";
  auto compiled = CompiledTemplate::Compile(content);
  if (!compiled.ok()) {
    std::fprintf(stderr, "compile failed: %s\n", compiled.status().ToString().c_str());
    return 1;
  }
  std::vector<RenderProfile> profiles = MakeProfiles();
  std::vector<std::string> links(kProfiles);
  for (int i = 0; i < kProfiles; ++i) {
    links[static_cast<size_t>(i)] = "https://t.example.com/r/" + std::to_string(100000 + i);
  }

  size_t bytes = 0;
  int failures = 0;
  Placeholders placeholders;
  const double start = ThreadCpuSeconds();
  const auto wall_start = std::chrono::steady_clock::now();
  for (int i = 0; i < kMessages; ++i) {
    RenderProfile& profile = profiles[static_cast<size_t>(i % kProfiles)];
    profile.customer_id = i + 1;
    placeholders.link = links[static_cast<size_t>(i % kProfiles)];
    auto rendered = compiled->Render(profile, placeholders);
    if (!rendered.ok()) {
      ++failures;
      continue;
    }
    bytes += std::get<scrm::model::WecomMessageContent>(*rendered).text.size();
  }
  const double cpu = ThreadCpuSeconds() - start;
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();

  // For scale: what parsing the template from its text costs (Compile: checks, kainjow's parse
  // and the static limit check), which the loop above pays once.
  constexpr int kCompiles = 20'000;
  const double compile_start = ThreadCpuSeconds();
  for (int i = 0; i < kCompiles; ++i) {
    auto again = CompiledTemplate::Compile(content);
    if (!again.ok()) ++failures;
  }
  const double compile_us = (ThreadCpuSeconds() - compile_start) * 1e6 / kCompiles;

  std::printf("render_bench: %d messages from one template with %zu variables, one thread\n",
              kMessages, compiled->variables().size());
  std::printf(
      "  profiles: pool of %d (2-6 attributes, 3-20 tags), a new customer id and link each\n",
      kProfiles);
  std::printf("  rendered: %zu bytes (%.0f bytes a message), %d failures\n", bytes,
              static_cast<double>(bytes) / kMessages, failures);
  std::printf("  CPU %.2f s (wall %.2f s): %.2f us a message, %.0f messages/s\n", cpu, wall,
              cpu * 1e6 / kMessages, kMessages / cpu);
  std::printf("  compiling the template from its text: %.2f us (%d compiles), paid once\n",
              compile_us, kCompiles);
  const bool met = cpu <= kTargetSeconds && failures == 0;
  std::printf("  target: <= %.1f s CPU for %d messages: %s\n", kTargetSeconds, kMessages,
              met ? "met" : "MISSED");
  // The row scripts/bench.sh collects.
  std::printf(
      "| render_bench | %.2f s CPU for %d messages | %.2f us/message, target <= %.0f s: %s | one "
      "template, %zu variables, 1 thread |\n",
      cpu, kMessages, cpu * 1e6 / kMessages, kTargetSeconds, met ? "met" : "MISSED",
      compiled->variables().size());
  return met ? 0 : 1;
}

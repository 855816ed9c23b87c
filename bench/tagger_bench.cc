// tagger_bench: RuleEngine::Evaluate throughput on message texts, single thread. 1,000 rules over
// 500 tags (~70% keyword lists of 3-8 Chinese words, ~20% regexes, ~10% event rules on kind,
// QR scene, contact-way state, menu key and message windows) against 10,000 generated Chinese
// messages of 20-120 characters, about half of which mention a rule keyword. Run on purpose.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/random.h"
#include "src/model/interaction.h"
#include "src/model/tag_rule.h"
#include "src/tagger/rule_engine.h"

namespace {

using scrm::model::InteractionKind;
using scrm::model::TagRule;

constexpr int kRules = 1000;
constexpr int kTags = 500;
constexpr int kTexts = 10000;
constexpr double kMinSeconds = 2.0;

// Common characters of product, shopping and service chat, split into code points.
constexpr std::string_view kCharPool =
    "产品型号款式颜色尺寸价格优惠活动套餐会员积分礼品包装快递物流售后维修保养安装服务质量品牌"
    "新款旗舰高端入门专业家用商用智能无线蓝牙充电电池屏幕相机镜头音响耳机手表手机电脑平板键盘"
    "鼠标冰箱洗衣空调热水净化加湿厨房卫浴沙发床垫灯具窗帘地板瓷砖涂料木门衣柜书桌餐桌椅子儿童"
    "母婴奶粉尿布玩具童装女装男装鞋包美妆护肤面膜口红香水洗发沐浴牙膏零食茶叶咖啡红酒水果生鲜"
    "保险理财贷款基金课程培训英语编程考试留学旅游酒店机票门票健身瑜伽游泳跑步骑行露营钓鱼摄影";
constexpr std::string_view kFiller[] = {
    "你好，",       "您好，",       "请问一下",     "我想了解一下",
    "最近在看",     "有没有优惠",   "什么时候发货", "谢谢！",
    "好的",         "麻烦帮我看看", "这个怎么样",   "能便宜点吗",
    "可以开发票吗", "我再考虑考虑", "朋友推荐的",   "之前买过",
    "上次客服说",   "现在下单的话", "周末有空",     "能不能送货上门",
    "和别家比",     "质量怎么样",   "保修多久",     "支持分期吗",
    "包邮吗",       "急用",         "明天能到吗",   "。",
    "，",           "？",           "～",           "哈哈",
    "嗯嗯",         "收到",         "了解了",       "具体参数发我一下"};

class Rng {
 public:
  explicit Rng(uint64_t seed) : random_(seed) {}
  // Uniform in [0, n).
  std::size_t Below(std::size_t n) { return static_cast<std::size_t>(random_.NextU64() % n); }
  std::size_t Between(std::size_t lo, std::size_t hi) { return lo + Below(hi - lo + 1); }

 private:
  scrm::core::FakeRandom random_;
};

std::vector<std::string> CodePoints(std::string_view text) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    out.emplace_back(text.substr(i, len));
    i += len;
  }
  return out;
}

std::size_t CharCount(std::string_view text) { return CodePoints(text).size(); }

// Distinct 2-4 character words.
std::vector<std::string> Vocabulary(Rng& rng, std::size_t count) {
  const std::vector<std::string> chars = CodePoints(kCharPool);
  std::vector<std::string> words;
  while (words.size() < count) {
    std::string word;
    const std::size_t len = rng.Between(2, 4);
    for (std::size_t i = 0; i < len; ++i) word += chars[rng.Below(chars.size())];
    if (std::find(words.begin(), words.end(), word) == words.end()) words.push_back(word);
  }
  return words;
}

scrm::model::TagRef TagFor(int rule_index) {
  const int tag = rule_index % kTags;
  return {"兴趣分组" + std::to_string(tag % 25), "标签" + std::to_string(tag)};
}

std::vector<TagRule> Rules(Rng& rng, const std::vector<std::string>& vocab) {
  std::vector<TagRule> rules;
  const std::string_view regex_templates[] = {
      "W.{0,6}(多少钱|价格|报价)", "预算\\s*\\d+\\s*万.{0,4}W", "(想|要|准备)(买|订|换).{0,4}W",
      "W\\s*\\d+\\s*(台|件|套|个)", "W.{0,3}(有货|现货|发货)"};
  for (int i = 0; i < kRules; ++i) {
    TagRule rule;
    rule.id = i + 1;
    rule.name = "规则" + std::to_string(i + 1);
    rule.priority = static_cast<int>(rng.Below(10));
    const int kind = i % 10;  // 0-6 keywords, 7-8 regex, 9 event
    if (kind <= 6) {
      const std::size_t n = rng.Between(3, 8);
      while (rule.condition.keywords_any.size() < n) {
        const std::string& word = vocab[rng.Below(vocab.size())];
        auto& list = rule.condition.keywords_any;
        if (std::find(list.begin(), list.end(), word) == list.end()) list.push_back(word);
      }
    } else if (kind <= 8) {
      std::string pattern(regex_templates[rng.Below(std::size(regex_templates))]);
      pattern.replace(pattern.find('W'), 1, vocab[rng.Below(vocab.size())]);
      rule.condition.regex = pattern;
    } else {
      // Event rules; a few "N messages in 7 days" rules among them (a real rule set has a
      // handful: each costs a storage count per message).
      switch (i % 200 == 9 ? 3 : rng.Below(3)) {
        case 0:
          rule.condition.qr_scene = {scrm::model::StringMatch::Mode::kPrefix,
                                     "channel_" + std::to_string(i)};
          break;
        case 1:
          rule.condition.contact_state = {scrm::model::StringMatch::Mode::kEquals,
                                          "state_" + std::to_string(i)};
          break;
        case 2: rule.condition.menu_key = "MENU_" + std::to_string(i); break;
        default:
          rule.condition.window_count = scrm::model::WindowCountCondition{
              {InteractionKind::kMessageText}, static_cast<int64_t>(3 + i % 3), 7};
          break;
      }
    }
    rule.actions.push_back(scrm::model::AddTagAction{TagFor(i), 1.0 + static_cast<double>(i % 3)});
    rules.push_back(std::move(rule));
  }
  return rules;
}

// Filler phrases with, in about half the messages, one to three vocabulary words (most of which
// are rule keywords) and sometimes a budget or a quantity.
std::vector<std::string> Texts(Rng& rng, const std::vector<std::string>& vocab) {
  std::vector<std::string> texts;
  texts.reserve(kTexts);
  for (int i = 0; i < kTexts; ++i) {
    const std::size_t target = rng.Between(20, 120);
    const bool mentions = rng.Below(2) == 0;
    std::string text;
    std::size_t chars = 0;
    while (chars < target) {
      std::string piece;
      const std::size_t pick = rng.Below(20);
      if (mentions && pick < 3) {
        piece = vocab[rng.Below(vocab.size())];
      } else if (pick == 3) {
        piece = "预算" + std::to_string(rng.Between(1, 50)) + "万";
      } else if (pick == 4) {
        piece = std::to_string(rng.Between(1, 20)) + "台";
      } else {
        piece = std::string(kFiller[rng.Below(std::size(kFiller))]);
      }
      chars += CharCount(piece);
      text += piece;
    }
    texts.push_back(std::move(text));
  }
  return texts;
}

// CPU time of the calling thread: on a shared machine the wall clock also counts the time other
// processes hold the core, which is not the engine's cost.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

class ConstantCounter final : public scrm::tagger::WindowCounter {
 public:
  int64_t CountSince(std::span<const InteractionKind>, int64_t) const override { return 3; }
};

}  // namespace

int main() {
  Rng rng(20260101);
  // 1,500 words: keyword rules draw ~3,850 keywords from them, so rules share patterns as real
  // rule sets do (the same product word in several rules).
  const std::vector<std::string> vocab = Vocabulary(rng, 1500);
  std::vector<TagRule> rules = Rules(rng, vocab);
  const std::vector<std::string> texts = Texts(rng, vocab);

  const auto compile_start = std::chrono::steady_clock::now();
  auto engine = scrm::tagger::RuleEngine::Compile(std::move(rules));
  const std::chrono::duration<double, std::milli> compile_ms =
      std::chrono::steady_clock::now() - compile_start;
  if (!engine.ok()) {
    std::fprintf(stderr, "compile failed: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  const scrm::tagger::RuleEngine& rule_engine = **engine;

  std::vector<scrm::model::Interaction> interactions(texts.size());
  std::size_t total_bytes = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    interactions[i].kind = InteractionKind::kMessageText;
    interactions[i].occurred_at_ms = 1767225600000 + static_cast<int64_t>(i) * 1000;
    interactions[i].payload = scrm::model::TextPayload{texts[i]};
    total_bytes += texts[i].size();
  }

  const ConstantCounter counter;
  std::size_t matches = 0;
  for (const auto& in : interactions) {  // warm-up: fills RE2's DFA cache
    matches += rule_engine.Evaluate(in, nullptr, counter).size();
  }
  const double avg_matches = static_cast<double>(matches) / static_cast<double>(texts.size());

  std::size_t evaluated = 0;
  std::size_t sink = 0;
  const double cpu_start = ThreadCpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  std::chrono::duration<double> elapsed{0};
  while (elapsed.count() < kMinSeconds) {
    for (const auto& in : interactions) sink += rule_engine.Evaluate(in, nullptr, counter).size();
    evaluated += interactions.size();
    elapsed = std::chrono::steady_clock::now() - start;
  }
  const double cpu_seconds = ThreadCpuSeconds() - cpu_start;
  const double per_cpu_second = static_cast<double>(evaluated) / cpu_seconds;
  const double per_wall_second = static_cast<double>(evaluated) / elapsed.count();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);

  std::printf(
      "tagger: %zu rules, %zu patterns, %zu texts (avg %zu bytes), %zu evaluations in %.2f s "
      "wall / %.2f s CPU: %.0f/s per CPU-second, %.0f/s wall; max RSS %ld MiB; sink %zu\n",
      rule_engine.rule_count(), rule_engine.pattern_count(), texts.size(),
      total_bytes / texts.size(), evaluated, elapsed.count(), cpu_seconds, per_cpu_second,
      per_wall_second, usage.ru_maxrss / 1024, sink);
  std::printf(
      "| tagger, 1000 rules / 500 tags | %.0f interactions/s | %.2f avg matches, compile %.0f ms "
      "| one core (thread CPU time; %.0f/s wall), %zu texts, RE2::Set |\n",
      per_cpu_second, avg_matches, compile_ms.count(), per_wall_second, texts.size());
  if (rule_engine.text_scan_failures() != 0) {
    std::fprintf(stderr, "RE2 DFA failures: %lld\n",
                 static_cast<long long>(rule_engine.text_scan_failures()));
    return 1;
  }
  return 0;
}

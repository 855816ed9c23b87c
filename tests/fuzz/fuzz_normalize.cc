// libFuzzer target over the payload normalizer: every input is a decrypted callback payload and
// goes to NormalizePayload for each platform x format (WeCom / OA x XML / JSON), PROTOCOL.md §3.
//
// Properties checked (abort = a finding): nothing crashes (ASan / UBSan); a refusal is always
// kMalformedMessage (normalize.h); a success has account_id, platform, raw_body and raw_format
// from the arguments, a non-empty dedupe_key no longer than the inbox key limit, an
// occurred_at_ms in whole non-negative seconds, id and received_at_ms left 0; and normalizing
// the same bytes again gives the same kind and dedupe_key.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "channels/common/channel.h"
#include "channels/common/normalize.h"
#include "src/model/interaction.h"
#include "tests/fuzz/fuzz_support.h"

namespace scrm::fuzz {
namespace {

using channels::PayloadFormat;
using model::Platform;

constexpr std::string_view kAccountId = "fuzz-acct";

// normalize.cc hashes longer keys down to "<scheme>\x1fsha256:<64 hex>" so the inbox index
// stays small (kMaxDedupeKeyBytes there).
constexpr size_t kMaxDedupeKeyBytes = 256;

void CheckOne(Platform platform, PayloadFormat format, std::string_view body) {
  const channels::Decoded<model::Interaction> first =
      channels::NormalizePayload(platform, kAccountId, body, format);
  const channels::Decoded<model::Interaction> again =
      channels::NormalizePayload(platform, kAccountId, body, format);
  SCRM_FUZZ_REQUIRE(first.ok() == again.ok(), "normalize is not deterministic");
  if (!first.ok()) {
    SCRM_FUZZ_REQUIRE(first.rejection.reason == channels::RejectReason::kMalformedMessage,
                      first.rejection.detail);
    return;
  }
  const model::Interaction& i = *first.value;
  SCRM_FUZZ_REQUIRE(!i.dedupe_key.empty(), "empty dedupe key");
  SCRM_FUZZ_REQUIRE(i.dedupe_key.size() <= kMaxDedupeKeyBytes, i.dedupe_key);
  SCRM_FUZZ_REQUIRE(i.dedupe_key == again.value->dedupe_key, i.dedupe_key);
  SCRM_FUZZ_REQUIRE(i.kind == again.value->kind, model::KindName(i.kind));
  SCRM_FUZZ_REQUIRE(i.account_id == kAccountId, i.account_id);
  SCRM_FUZZ_REQUIRE(i.platform == platform, "platform not from the argument");
  SCRM_FUZZ_REQUIRE(i.raw_body == body, "raw_body is not the payload");
  SCRM_FUZZ_REQUIRE(i.raw_format == (format == PayloadFormat::kXml ? "xml" : "json"), i.raw_format);
  SCRM_FUZZ_REQUIRE(i.occurred_at_ms >= 0 && i.occurred_at_ms % 1000 == 0,
                    std::to_string(i.occurred_at_ms));
  SCRM_FUZZ_REQUIRE(i.id == 0 && i.received_at_ms == 0, "id / received_at_ms set");
}

}  // namespace
}  // namespace scrm::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A view of libFuzzer's exactly-sized buffer: ASan sees any read past the input.
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (const auto platform :
       {scrm::model::Platform::kWecom, scrm::model::Platform::kOfficialAccount}) {
    for (const auto format :
         {scrm::channels::PayloadFormat::kXml, scrm::channels::PayloadFormat::kJson}) {
      scrm::fuzz::CheckOne(platform, format, body);
    }
  }
  return 0;
}

#include "src/core/logging.h"

#include <catch2/catch.hpp>

namespace scrm::core {
namespace {

TEST_CASE("ParseLogLevel accepts the documented names and rejects others", "[unit]") {
  CHECK(ParseLogLevel("warn").value() == spdlog::level::warn);
  CHECK(ParseLogLevel("error").value() == spdlog::level::err);
  CHECK(ParseLogLevel("loud").status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("MakeLogger sets the configured level when built", "[unit]") {
  auto logger = MakeLogger("t", LogOptions{"debug", LogFormat::kJson});
  CHECK(logger->level() == spdlog::level::debug);
  CHECK(logger->name() == "t");
}

}  // namespace
}  // namespace scrm::core

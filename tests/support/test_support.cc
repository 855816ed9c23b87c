#include "tests/support/test_support.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <random>
#include <sstream>

namespace scrm::testing {

TempDir::TempDir() {
  std::random_device rd;
  const auto base = std::filesystem::temp_directory_path();
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate =
        base / ("scrmd-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  FAIL("could not create a temporary directory");
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  REQUIRE(out.good());
  out << text;
}

void WriteSecretsFile(const std::string& path, const std::string& text) {
  WriteFile(path, text);
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
      std::filesystem::perm_options::replace);
}

std::string FixturePath(const std::string& relative) {
  return std::string(SCRM_FIXTURES_DIR) + "/" + relative;
}

std::string ScrmdBinary() { return SCRM_SCRMD_BINARY; }

std::string SimBinary() { return SCRM_SIM_BINARY; }

std::string SourcePath(const std::string& relative) {
  return std::string(SCRM_SOURCE_DIR) + "/" + relative;
}

}  // namespace scrm::testing

// Helpers shared by the test executables: temporary directories, fixture files, a child scrmd.
#pragma once

#include <filesystem>
#include <string>

namespace scrm::testing {

// A fresh directory under the system temp dir, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Whole contents of a file (REQUIREs that it exists).
std::string ReadFile(const std::string& path);
// Writes text to path, replacing it.
void WriteFile(const std::string& path, const std::string& text);
// WriteFile, then mode 0600: what scrmd requires of a secrets file.
void WriteSecretsFile(const std::string& path, const std::string& text);
// Path of a file under tests/fixtures.
std::string FixturePath(const std::string& relative);
// Path of the scrmd binary built with the tests.
std::string ScrmdBinary();
// Path of the scrm-sim binary built with the tests.
std::string SimBinary();
// Path of a file in the source tree ("config/tag_rules.example.json").
std::string SourcePath(const std::string& relative);

}  // namespace scrm::testing

#include "campaigns/render/template_files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include "campaigns/render/renderer.h"
#include "src/core/strings.h"

namespace scrm::render {
namespace {

namespace fs = std::filesystem;

core::StatusOr<std::string> ReadSmallFile(const fs::path& path, const std::string& label) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return core::InvalidArgumentError(label + ": cannot read: " + ec.message());
  if (size > kMaxTemplateFileBytes) {
    return core::InvalidArgumentError(label + ": larger than " +
                                      std::to_string(kMaxTemplateFileBytes) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::InvalidArgumentError(label + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

core::StatusOr<std::vector<TemplateFile>> LoadTemplateFiles(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return core::NotFoundError(core::Printable(dir, 256) + ": not a directory");
  }
  std::vector<fs::path> paths;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() != ".json") continue;
    if (!it->is_regular_file(ec)) continue;
    paths.push_back(it->path());
    if (paths.size() > kMaxTemplateFiles) {
      return core::InvalidArgumentError(core::Printable(dir, 256) + ": more than " +
                                        std::to_string(kMaxTemplateFiles) + " template files");
    }
  }
  if (ec) return core::InvalidArgumentError(core::Printable(dir, 256) + ": " + ec.message());
  std::sort(paths.begin(), paths.end());

  std::vector<TemplateFile> files;
  std::set<std::string> names;
  for (const fs::path& path : paths) {
    const std::string label = core::Printable(path.filename().string(), 128);
    SCRM_ASSIGN_OR_RETURN(const std::string text, ReadSmallFile(path, label));
    const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) return core::InvalidArgumentError(label + ": not valid JSON");
    auto doc = TemplateDocFromJson(json);
    if (!doc.ok()) return core::InvalidArgumentError(label + ": " + doc.status().message());
    if (doc->version.has_value()) {
      return core::InvalidArgumentError(label + ": version: a template file carries no version");
    }
    auto compiled = CompiledTemplate::Compile(doc->content);
    if (!compiled.ok()) {
      return core::InvalidArgumentError(label + ": " + compiled.status().message());
    }
    if (!names.insert(doc->name).second) {
      return core::InvalidArgumentError(label + ": name \"" + doc->name +
                                        "\" is used by another file");
    }
    files.push_back(TemplateFile{path.filename().string(), std::move(doc).value()});
  }
  return files;
}

}  // namespace scrm::render

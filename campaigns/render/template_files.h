// The shipped templates folder (templates/ in the repository, config key templates_dir): one
// JSON file per template, *.json, each a template document (template_json.h). Read at startup by
// scrmd serve, which stores the ones the database does not have (docs/templates.md "Shipped
// templates"). Pure file reading; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "campaigns/render/template_json.h"
#include "src/core/status.h"

namespace scrm::render {

inline constexpr size_t kMaxTemplateFileBytes = 64 * 1024;
inline constexpr size_t kMaxTemplateFiles = 1000;

// One file's template, checked (it compiles: variables, limits).
struct TemplateFile {
  std::string file;  // the file name, e.g. "welcome.json"
  TemplateDoc doc;
};

// Every *.json file of `dir` (not recursive), by file name. NotFound when `dir` is not a
// directory; InvalidArgument naming the file and the member for a file that is not a valid
// template ("welcome.json: content.text.content: unknown variable {{nmae}} at byte 2"), for two
// files with one name, for a "version" member (files carry none), or for more than
// kMaxTemplateFiles files or a file over kMaxTemplateFileBytes.
core::StatusOr<std::vector<TemplateFile>> LoadTemplateFiles(const std::string& dir);

}  // namespace scrm::render

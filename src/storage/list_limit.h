// The largest page the profile repositories' listings return (customers, tags, tasks, timeline,
// pushed tags): an API page size is checked against it before it reaches storage.
#pragma once

#include <cstddef>

namespace scrm::storage {

inline constexpr size_t kMaxListLimit = 1000;

}  // namespace scrm::storage

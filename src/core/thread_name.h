// Names the calling thread for ps, top and perf (`perf report --sort comm`), so the CPU of
// the inbox writer, the ingest worker and the checkpointers can be told apart.
#pragma once

#include <string_view>

namespace scrm::core {

// Linux keeps at most 15 bytes of a thread name: longer names are cut there. Best effort: a
// failure changes nothing else.
void NameThisThread(std::string_view name);

}  // namespace scrm::core

#include "src/core/thread_name.h"

#include <pthread.h>

#include <string>

namespace scrm::core {

void NameThisThread(std::string_view name) {
  constexpr size_t kMaxBytes = 15;  // the kernel's TASK_COMM_LEN is 16 with the terminator
  const std::string cut(name.substr(0, kMaxBytes));
  pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace scrm::core

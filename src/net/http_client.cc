#include "src/net/http_client.h"

namespace scrm::net {

std::string_view HttpMethodName(HttpMethod method) {
  switch (method) {
    case HttpMethod::kGet: return "GET";
    case HttpMethod::kPost: return "POST";
  }
  return "GET";
}

std::string_view HttpOutcomeName(HttpOutcome outcome) {
  switch (outcome) {
    case HttpOutcome::kResponse: return "response";
    case HttpOutcome::kNotSent: return "not_sent";
    case HttpOutcome::kUnknown: return "unknown";
  }
  return "unknown";
}

}  // namespace scrm::net

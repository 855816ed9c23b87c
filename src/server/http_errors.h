// The JSON error answers of the HTTP edge: {"error":{"code","message","request_id"}}, the HTTP
// status of a canonical code, and the default code and message of a status the server sets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "src/core/status.h"
#include "src/server/http_types.h"

namespace scrm::server {

// Writes {"error":{"code","message","request_id"}} with the given status.
void WriteJsonError(Response& res, int status, std::string_view code, std::string_view message,
                    std::string_view request_id);
// HTTP status for a canonical code (InvalidArgument 400, Unauthenticated 401, ...).
int HttpStatusFor(core::StatusCode code);
// A response header a handler sets to the detail of an error it answered without it: the server
// logs it (warn, with the request id) and never sends it.
inline constexpr char kErrorDetailHeader[] = "X-Scrm-Error-Detail";
// Writes the status as a JSON error with HttpStatusFor(code). For Internal, and for a message
// the storage layer built from a database error ("sqlite: UNIQUE constraint failed: ..."), the
// message is replaced by a stable one written for the API's user (the code stays); the detail
// goes to the log (kErrorDetailHeader), not in the answer.
void WriteStatusError(Response& res, const core::Status& status, std::string_view request_id);

namespace internal {
// The JSON text of an error answer; invalid UTF-8 in `message` is replaced, never thrown.
std::string ErrorJson(std::string_view code, std::string_view message, std::string_view request_id);
// Error code (JSON "code") for a status the server sets, or a handler that set only the status.
std::string_view ErrorCodeForStatus(int status);
// The message of such an answer (413 names the limit).
std::string DefaultMessageForStatus(int status, int64_t max_body_bytes);
}  // namespace internal

}  // namespace scrm::server

#include "src/server/http_errors.h"

#include <nlohmann/json.hpp>

namespace scrm::server {
namespace internal {

// Error code (JSON "code") for a status produced outside a handler, or by a handler that set
// only the status. Names match core::StatusCodeName where a canonical code exists.
std::string_view ErrorCodeForStatus(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthenticated";
    case 403: return "permission_denied";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 408: return "request_timeout";
    case 409: return "conflict";
    case 411: return "length_required";
    case 413: return "payload_too_large";
    case 414: return "uri_too_long";
    case 415: return "unsupported_media_type";
    case 416: return "range_not_satisfiable";
    case 417: return "expectation_failed";
    case 429: return "resource_exhausted";
    case 500: return "internal";
    case 501: return "not_implemented";
    case 503: return "unavailable";
    case 504: return "deadline_exceeded";
    default: return status < 500 ? "bad_request" : "internal";
  }
}

std::string DefaultMessageForStatus(int status, int64_t max_body_bytes) {
  switch (status) {
    case 400: return "malformed request";
    case 401: return "authentication required";
    case 403: return "permission denied";
    case 404: return "no route for this path";
    case 405: return "method not allowed";
    case 408: return "request not received in time";
    case 413: return "request body exceeds " + std::to_string(max_body_bytes) + " bytes";
    case 414: return "request target too long";
    case 415: return "unsupported media type";
    case 416: return "range not satisfiable";
    case 503: return "service unavailable";
    default: return status < 500 ? "request rejected" : "internal error";
  }
}

std::string ErrorJson(std::string_view code, std::string_view message,
                      std::string_view request_id) {
  const nlohmann::json body = {{"error",
                                {{"code", std::string(code)},
                                 {"message", std::string(message)},
                                 {"request_id", std::string(request_id)}}}};
  // `replace`: a message built from input may hold invalid UTF-8, and dump() must not throw.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace internal

using internal::ErrorJson;

namespace {

// Messages the storage layer builds from a database exception ("sqlite: UNIQUE constraint
// failed: tags.wecom_tag_id", "database: ...").
bool IsStorageDetail(std::string_view message) {
  return message.starts_with("sqlite") || message.starts_with("database:") ||
         message.find("constraint failed") != std::string_view::npos;
}

// What the client reads instead, by code: stable, written for the API's user.
std::string_view StorageErrorMessage(core::StatusCode code) {
  switch (code) {
    case core::StatusCode::kAlreadyExists:
      return "already exists: a name or id that must be unique is taken";
    case core::StatusCode::kInvalidArgument:
      return "the request breaks a rule of the stored data (a required value is missing or out "
             "of range)";
    case core::StatusCode::kFailedPrecondition:
      return "the request refers to a record that does not exist or is still in use";
    case core::StatusCode::kUnavailable: return "the database is busy; retry the request";
    default: return "internal error";
  }
}

}  // namespace

void WriteJsonError(Response& res, int status, std::string_view code, std::string_view message,
                    std::string_view request_id) {
  res.status = status;
  res.SetContent(ErrorJson(code, message, request_id), "application/json");
}

int HttpStatusFor(core::StatusCode code) {
  // The HTTP mapping of google.rpc.Code (as in abseil and grpc-gateway).
  switch (code) {
    case core::StatusCode::kOk: return 200;
    case core::StatusCode::kCancelled: return 499;
    case core::StatusCode::kInvalidArgument: return 400;
    case core::StatusCode::kFailedPrecondition: return 400;
    case core::StatusCode::kUnauthenticated: return 401;
    case core::StatusCode::kPermissionDenied: return 403;
    case core::StatusCode::kNotFound: return 404;
    case core::StatusCode::kAlreadyExists: return 409;
    case core::StatusCode::kResourceExhausted: return 429;
    case core::StatusCode::kInternal: return 500;
    case core::StatusCode::kUnavailable: return 503;
    case core::StatusCode::kDeadlineExceeded: return 504;
  }
  return 500;
}

void WriteStatusError(Response& res, const core::Status& status, std::string_view request_id) {
  // An ok status here is a caller bug; answering 200 with an error body would hide it.
  if (status.ok() || status.code() == core::StatusCode::kInternal) {
    WriteJsonError(res, 500, core::StatusCodeName(core::StatusCode::kInternal), "internal error",
                   request_id);
    res.SetHeader(kErrorDetailHeader, status.ToString());
    return;
  }
  if (IsStorageDetail(status.message())) {
    // The database's own text (SQL, table and column names) is for the log, not the client.
    WriteJsonError(res, HttpStatusFor(status.code()), core::StatusCodeName(status.code()),
                   StorageErrorMessage(status.code()), request_id);
    res.SetHeader(kErrorDetailHeader, status.ToString());
    return;
  }
  WriteJsonError(res, HttpStatusFor(status.code()), core::StatusCodeName(status.code()),
                 status.message(), request_id);
}

}  // namespace scrm::server

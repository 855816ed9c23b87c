#include "src/core/status.h"

#include <catch2/catch.hpp>
#include <string>

namespace scrm::core {
namespace {

StatusOr<int> ParsePositive(int v) {
  if (v <= 0) return InvalidArgumentError("must be positive");
  return v;
}

Status UsesReturnIfError(int v, int* out) {
  SCRM_RETURN_IF_ERROR(ParsePositive(v));
  *out = v;
  return OkStatus();
}

StatusOr<int> UsesAssignOrReturn(int v) {
  SCRM_ASSIGN_OR_RETURN(const int parsed, ParsePositive(v));
  return parsed * 2;
}

TEST_CASE("Status reports its code and message when built with an error", "[unit]") {
  const Status s = NotFoundError("no such key");
  CHECK_FALSE(s.ok());
  CHECK(s.code() == StatusCode::kNotFound);
  CHECK(s.message() == "no such key");
  CHECK(s.ToString() == "not_found: no such key");
  CHECK(OkStatus().ok());
  CHECK(OkStatus().ToString() == "ok");
}

TEST_CASE("StatusCodeName names every canonical code when asked", "[unit]") {
  CHECK(StatusCodeName(StatusCode::kInvalidArgument) == "invalid_argument");
  CHECK(StatusCodeName(StatusCode::kUnauthenticated) == "unauthenticated");
  CHECK(StatusCodeName(StatusCode::kPermissionDenied) == "permission_denied");
  CHECK(StatusCodeName(StatusCode::kResourceExhausted) == "resource_exhausted");
  CHECK(StatusCodeName(StatusCode::kFailedPrecondition) == "failed_precondition");
}

TEST_CASE("StatusOr holds a value when built from one", "[unit]") {
  StatusOr<std::string> v = std::string("abc");
  REQUIRE(v.ok());
  CHECK(*v == "abc");
  CHECK(v->size() == 3);
}

TEST_CASE("StatusOr becomes internal when built from an ok status", "[unit]") {
  StatusOr<int> v = OkStatus();
  CHECK_FALSE(v.ok());
  CHECK(v.status().code() == StatusCode::kInternal);
  CHECK(v.value_or(7) == 7);
}

TEST_CASE("SCRM_RETURN_IF_ERROR returns the error when the expression fails", "[unit]") {
  int out = 0;
  CHECK(UsesReturnIfError(-1, &out).code() == StatusCode::kInvalidArgument);
  CHECK(out == 0);
  CHECK(UsesReturnIfError(3, &out).ok());
  CHECK(out == 3);
}

TEST_CASE("SCRM_ASSIGN_OR_RETURN assigns the value or returns the error", "[unit]") {
  CHECK(UsesAssignOrReturn(4).value() == 8);
  CHECK(UsesAssignOrReturn(0).status().message() == "must be positive");
}

}  // namespace
}  // namespace scrm::core

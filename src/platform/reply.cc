#include "src/platform/reply.h"

#include "src/platform/json_fields.h"

namespace scrm::platform {

PlatformReply ReadReply(const net::HttpResult& result) {
  PlatformReply reply;
  switch (result.outcome) {
    case net::HttpOutcome::kNotSent:
      reply.kind = PlatformReply::Kind::kNotSent;
      reply.detail = result.error;
      return reply;
    case net::HttpOutcome::kUnknown:
      reply.kind = PlatformReply::Kind::kUnknown;
      reply.detail = result.error;
      return reply;
    case net::HttpOutcome::kResponse: break;
  }
  reply.http_status = result.status;
  if (result.status != 200) {
    reply.kind = PlatformReply::Kind::kHttpStatus;
    reply.detail = "HTTP " + std::to_string(result.status);
    return reply;
  }
  auto parsed = ParseJsonObject(result.body);
  if (!parsed.ok()) {
    reply.kind = PlatformReply::Kind::kMalformed;
    reply.detail = parsed.status().message();
    return reply;
  }
  reply.json = std::move(parsed).value();
  JsonFields fields(reply.json, "reply");
  reply.errcode = fields.Int("errcode");
  std::string errmsg = fields.String("errmsg");
  if (!fields.ok()) {
    reply.kind = PlatformReply::Kind::kMalformed;
    reply.detail = fields.error();
    return reply;
  }
  if (errmsg.size() > 256) errmsg.resize(256);
  reply.errmsg = std::move(errmsg);
  reply.kind = PlatformReply::Kind::kJson;
  return reply;
}

std::chrono::system_clock::time_point QuotaResetTime(model::Platform platform,
                                                     std::chrono::system_clock::time_point now,
                                                     std::chrono::milliseconds wecom_block) {
  using std::chrono::hours;
  if (platform == model::Platform::kWecom) return now + wecom_block;
  // Next midnight in UTC+8: shift into Beijing time, round up to the next day, shift back.
  const auto beijing = now + hours(8);
  const auto day = std::chrono::floor<std::chrono::days>(beijing);
  return day + std::chrono::days(1) - hours(8);
}

}  // namespace scrm::platform

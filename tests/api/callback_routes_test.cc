// The callback routes in process: a stand-in ChannelAdapter over a real HttpServer and a real
// InboxWriter on a temporary inbox file. What they show: the ack (a passive reply included) is
// built on the HTTP edge's threads, never on the inbox writer thread, and is sent only after the
// inbox decided.
#include "src/api/callbacks.h"

#include <httplib.h>
#include <pthread.h>

#include <catch2/catch.hpp>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "src/core/clock.h"
#include "src/core/logging.h"
#include "src/core/metrics.h"
#include "src/core/random.h"
#include "src/ingest/inbox_writer.h"
#include "src/server/http_server.h"
#include "src/storage/database.h"
#include "src/storage/interaction_store.h"
#include "tests/support/test_support.h"

namespace scrm::api {
namespace {

constexpr int64_t kCallbackNowMs = 1767225600000;  // 2026-01-01T00:00:00Z

// The calling thread's name ("inbox-writer" on the inbox writer thread).
std::string CallingThreadName() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

// Threads the ack work ran on, shared by the stand-in adapter and replier.
struct AckThreads {
  std::mutex mu;
  std::vector<std::string> names;

  void Note() {
    std::lock_guard lock(mu);
    names.push_back(CallingThreadName());
  }
  std::vector<std::string> Names() {
    std::lock_guard lock(mu);
    return names;
  }
};

// Takes any body as a WeCom text message whose MsgId is the body; acks with "<xml>reply</xml>".
class StandInAdapter final : public channels::ChannelAdapter {
 public:
  explicit StandInAdapter(AckThreads& threads) : threads_(threads) {}
  const std::string& account_id() const override { return account_; }
  model::Platform platform() const override { return model::Platform::kWecom; }
  channels::Decoded<std::string> VerifyUrl(const channels::CallbackRequest&) const override {
    channels::Decoded<std::string> out;
    out.value = "echo";
    return out;
  }
  channels::Decoded<model::Interaction> Decode(
      const channels::CallbackRequest& request) const override {
    model::Interaction it;
    it.platform = model::Platform::kWecom;
    it.account_id = account_;
    it.kind = model::InteractionKind::kMessageText;
    it.msg_id = request.body;
    it.dedupe_key = "msg\x1fzhangsan\x1f" + request.body;
    it.userid = "zhangsan";
    it.occurred_at_ms = kCallbackNowMs;
    it.received_at_ms = request.received_at_ms;
    it.payload = model::TextPayload{"hi"};
    it.raw_body = "<xml/>";
    channels::Decoded<model::Interaction> out;
    out.value = std::move(it);
    return out;
  }
  std::string AckBody(const channels::CallbackRequest&, const model::Interaction&,
                      const channels::ReplyMessage* reply) const override {
    threads_.Note();
    return "<xml>" + (reply != nullptr ? reply->text : std::string()) + "</xml>";
  }

 private:
  const std::string account_ = "acme";
  AckThreads& threads_;
};

class StandInReplier final : public channels::PassiveReplier {
 public:
  explicit StandInReplier(AckThreads& threads) : threads_(threads) {}
  std::optional<channels::ReplyMessage> ReplyFor(const model::Interaction&) const override {
    threads_.Note();
    return channels::ReplyMessage{"thanks"};
  }

 private:
  AckThreads& threads_;
};

std::unique_ptr<storage::Database> OpenCallbackInbox(const std::string& path) {
  storage::DatabaseOptions options;
  options.path = path;
  options.schema = storage::Schema::kInbox;
  auto db = storage::Database::Open(options);
  INFO(db.status().ToString());
  REQUIRE(db.ok());
  auto migrated = (*db)->Migrate(kCallbackNowMs);
  INFO(migrated.status().ToString());
  REQUIRE(migrated.ok());
  return std::move(db).value();
}

server::ServerOptions CallbackServerOptions() {
  server::ServerOptions options;
  options.port = 0;
  options.threads = 2;
  options.event_threads = 1;
  options.max_connections = 16;
  options.max_connections_per_ip = 0;
  return options;
}

// Members are destroyed in reverse: the server stops before the inbox writer and the adapters.
struct CallbackFixture {
  explicit CallbackFixture(bool start_inbox) {
    auto adapter = std::make_unique<StandInAdapter>(threads);
    adapters.Add(std::move(adapter));
    if (start_inbox) REQUIRE(inbox.Start().ok());
    RegisterCallbackRoutes(
        http, CallbackDeps{adapters, inbox, clock, metrics, core::MakeNullLogger(), &replier});
    REQUIRE(http.Start().ok());
  }
  ~CallbackFixture() {
    http.Stop();
    inbox.Stop();
  }

  httplib::Result Post(const std::string& body) {
    httplib::Client client("127.0.0.1", http.port());
    client.set_read_timeout(10);
    return client.Post("/callbacks/wecom/acme?timestamp=1&nonce=n", body, "text/xml");
  }
  uint64_t Outcomes(const std::string& outcome) {
    return metrics.Counter("scrmd_callbacks_total", "", {"platform", "account", "outcome"})
        .Value({"wecom", "acme", outcome});
  }

  scrm::testing::TempDir dir;
  std::unique_ptr<storage::Database> db = OpenCallbackInbox(dir.File("scrmd-inbox.db"));
  storage::InteractionStore store{*db};
  core::SystemClock clock;
  core::FakeRandom random;
  core::MetricsRegistry metrics;
  AckThreads threads;
  StandInReplier replier{threads};
  ingest::InboxWriter inbox{store, clock, metrics, core::MakeNullLogger()};
  AdapterRegistry adapters;
  server::HttpServer http{CallbackServerOptions(), clock, random, core::MakeNullLogger(), metrics};
};

TEST_CASE("Callback route builds the ack and its reply off the inbox writer thread when it stores",
          "[integration]") {
  CallbackFixture f(/*start_inbox=*/true);
  auto first = f.Post("m1");
  REQUIRE(first);
  CHECK(first->status == 200);
  CHECK(first->body == "<xml>thanks</xml>");
  CHECK(first->get_header_value("Content-Type") == "application/xml");
  auto retry = f.Post("m1");
  REQUIRE(retry);
  CHECK(retry->status == 200);
  CHECK(retry->body == "<xml>thanks</xml>");
  CHECK(f.Outcomes("stored") == 1);
  CHECK(f.Outcomes("duplicate") == 1);
  const std::vector<std::string> names = f.threads.Names();
  CHECK(names.size() == 4);  // a reply and an ack body per request
  for (const std::string& name : names) CHECK(name != "inbox-writer");
}

TEST_CASE("Callback route answers 503 and counts inbox_failed when the inbox refuses",
          "[integration]") {
  CallbackFixture f(/*start_inbox=*/false);  // not started: every submission is refused
  auto res = f.Post("m1");
  REQUIRE(res);
  CHECK(res->status == 503);
  const auto body = nlohmann::json::parse(res->body, nullptr, false);
  REQUIRE(body.is_object());
  CHECK(body["error"]["code"] == "unavailable");
  CHECK(body["error"]["message"] == "temporarily unable to store the event");
  CHECK(body["error"]["request_id"] == res->get_header_value("X-Request-Id"));
  CHECK(f.Outcomes("inbox_failed") == 1);
  CHECK(f.Outcomes("stored") == 0);
}

}  // namespace
}  // namespace scrm::api

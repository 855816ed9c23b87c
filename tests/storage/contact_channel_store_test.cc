#include "src/storage/contact_channel_store.h"

#include "src/storage/outbox_store.h"

#include <catch2/catch.hpp>

#include "tests/storage/storage_test_helpers.h"

namespace scrm::storage {
namespace {

using testing::kNowMs;
using testing::OpenMigratedOrDie;

model::ContactChannel ChannelRow(std::string account, std::string state) {
  model::ContactChannel c;
  c.name = "Expo booth";
  c.account_id = std::move(account);
  c.platform = model::Platform::kWecom;
  c.state = std::move(state);
  c.welcome_template_id = 7;
  c.default_tags = {model::TagRef{"渠道", "展会"}, model::TagRef{"兴趣", "产品/A"}};
  c.owner_rule = model::OwnerRule::kRoundRobin;
  c.members = {"zhangsan", "lisi"};
  c.platform_id = "cfg1";
  c.qr_image = "http://qr/1";
  return c;
}

ChannelArrival ArrivalRow(int64_t channel_id, int64_t customer_id, std::string userid,
                          int64_t interaction_id) {
  ChannelArrival a;
  a.channel_id = channel_id;
  a.customer_id = customer_id;
  a.userid = std::move(userid);
  a.interaction_id = interaction_id;
  a.added_at_ms = kNowMs;
  return a;
}

TEST_CASE("ContactChannelStore stores a channel and reads it back whole", "[db]") {
  scrm::testing::TempDir dir;
  auto db = OpenMigratedOrDie({dir.File("c.db")});
  ContactChannelStore store(*db);
  auto created = store.Create(ChannelRow("acme", "expo_2026"), kNowMs);
  REQUIRE(created.ok());
  CHECK(created->id > 0);
  CHECK(created->created_at_ms == kNowMs);
  auto read = store.Get(created->id);
  REQUIRE(read.ok());
  CHECK(*read == *created);
  CHECK(read->default_tags[1].name == "产品/A");  // the first '/' splits group from name
  CHECK(read->members == std::vector<std::string>{"zhangsan", "lisi"});
  auto found = store.FindByState("acme", "expo_2026");
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->id == created->id);
  auto other = store.FindByState("shop", "expo_2026");
  REQUIRE(other.ok());
  CHECK_FALSE(other->has_value());
}

TEST_CASE("ContactChannelStore refuses a state the account used already", "[db]") {
  scrm::testing::TempDir dir;
  auto db = OpenMigratedOrDie({dir.File("c.db")});
  ContactChannelStore store(*db);
  REQUIRE(store.Create(ChannelRow("acme", "s1"), kNowMs).ok());
  auto again = store.Create(ChannelRow("acme", "s1"), kNowMs);
  CHECK(again.status().code() == core::StatusCode::kAlreadyExists);
  CHECK(again.status().message().starts_with("state:"));
  CHECK(store.Create(ChannelRow("shop", "s1"), kNowMs).ok());  // another account's is fine
  auto empty = store.Create(ChannelRow("acme", ""), kNowMs);
  CHECK(empty.status().code() == core::StatusCode::kInvalidArgument);
}

TEST_CASE("ContactChannelStore lists live channels and retired ones when asked", "[db]") {
  scrm::testing::TempDir dir;
  auto db = OpenMigratedOrDie({dir.File("c.db")});
  ContactChannelStore store(*db);
  auto a = store.Create(ChannelRow("acme", "a"), kNowMs);
  auto b = store.Create(ChannelRow("acme", "b"), kNowMs);
  REQUIRE((a.ok() && b.ok()));
  auto retired = store.Retire(a->id, kNowMs + 9);
  REQUIRE(retired.ok());
  CHECK(retired->retired);
  CHECK(retired->retired_at_ms == kNowMs + 9);
  auto again = store.Retire(a->id, kNowMs + 20);  // changes nothing
  REQUIRE(again.ok());
  CHECK(again->retired_at_ms == kNowMs + 9);
  auto live = store.List(0, 10, false);
  REQUIRE(live.ok());
  REQUIRE(live->size() == 1);
  CHECK((*live)[0].id == b->id);
  auto all = store.List(0, 10, true);
  REQUIRE(all.ok());
  CHECK(all->size() == 2);
  CHECK(store.List(0, 0, true).status().code() == core::StatusCode::kInvalidArgument);
  CHECK(store.Retire(999, kNowMs).status().code() == core::StatusCode::kNotFound);
}

TEST_CASE("ContactChannelStore counts adds, deletes and net from arrivals", "[db]") {
  scrm::testing::TempDir dir;
  auto db = OpenMigratedOrDie({dir.File("c.db")});
  ContactChannelStore store(*db);
  auto channel = store.Create(ChannelRow("acme", "expo"), kNowMs);
  REQUIRE(channel.ok());
  const int64_t id = channel->id;
  REQUIRE(db->InTransaction([&](WriteTxn& txn) -> core::Status {
              for (int64_t customer : {1, 2, 3}) {
                ChannelArrival a = ArrivalRow(id, customer, "zhangsan", 100 + customer);
                if (customer <= 2) a.welcome_job = "welcome:acme:W" + std::to_string(customer);
                auto recorded = store.RecordArrival(txn, a);
                if (!recorded.ok()) return recorded.status();
                if (!*recorded) return core::InternalError("not recorded");
              }
              // The same interaction again (a replay) records nothing.
              auto replay = store.RecordArrival(txn, ArrivalRow(id, 1, "zhangsan", 101));
              if (!replay.ok() || *replay) return core::InternalError("replay recorded");
              // Customer 2 leaves zhangsan; lisi and another account change nothing.
              auto ended = store.RecordDeparture(txn, 2, "acme", "zhangsan", kNowMs + 1);
              if (!ended.ok() || *ended != 1) return core::InternalError("departure");
              auto other = store.RecordDeparture(txn, 3, "acme", "lisi", kNowMs + 1);
              auto account = store.RecordDeparture(txn, 3, "shop", "zhangsan", kNowMs + 1);
              if (*other != 0 || *account != 0) return core::InternalError("wrong departure");
              // Customer 3 merged into 1: its arrival is 1's now.
              return store.MoveArrivals(txn, 3, 1);
            }).ok());
  // The welcome jobs' rows say what came of them: W1 sent, W2 refused (41051).
  OutboxStore outbox(*db);
  for (const char* key : {"welcome:acme:W1", "welcome:acme:W2"}) {
    OutboxJob job;
    job.kind = "welcome";
    job.account_id = "acme";
    job.dedupe_key = key;
    REQUIRE(outbox.Enqueue(job, kNowMs).ok());
  }
  auto claimed = outbox.Claim(kNowMs, 1000, 10);
  REQUIRE(claimed.ok());
  REQUIRE(claimed->size() == 2);
  for (const OutboxJob& job : *claimed) {
    const bool first = job.dedupe_key == "welcome:acme:W1";
    REQUIRE(outbox
                .Finish(job.id, job.attempts, OutboxState::kDone,
                        {first ? "sent" : "refused", first ? 0 : 41051, ""}, kNowMs)
                .ok());
  }
  auto stats = store.Stats(id);
  REQUIRE(stats.ok());
  CHECK(stats->adds == 3);
  CHECK(stats->deletes == 1);
  CHECK(stats->net == 2);
  CHECK(stats->customers == 2);
  CHECK(stats->welcomes_sent == 1);
  CHECK(stats->welcomes_failed == 1);
  CHECK(store.Stats(999).status().code() == core::StatusCode::kNotFound);
}

}  // namespace
}  // namespace scrm::storage

#include <catch2/catch.hpp>
#include <set>
#include <thread>
#include <vector>

#include "src/core/clock.h"
#include "src/core/crypto_util.h"
#include "src/core/random.h"

namespace scrm::core {
namespace {

TEST_CASE("FakeClock moves only when advanced", "[unit]") {
  FakeClock clock(1'000'000);
  CHECK(clock.NowUnixMillis() == 1'000'000);
  CHECK(clock.NowUnixSeconds() == 1'000);
  const auto steady = clock.SteadyNow();
  clock.Advance(std::chrono::milliseconds(2500));
  CHECK(clock.NowUnixMillis() == 1'002'500);
  CHECK(clock.SteadyNow() - steady == std::chrono::milliseconds(2500));
  clock.SetUnixMillis(5);
  CHECK(clock.NowUnixMillis() == 5);
}

TEST_CASE("FakeRandom repeats its stream when seeded the same", "[unit]") {
  FakeRandom a(7), b(7), c(8);
  const uint64_t first = a.NextU64();
  CHECK(first == b.NextU64());
  CHECK(first != c.NextU64());
  CHECK(a.HexString(8).size() == 16);
}

TEST_CASE("SecureRandom gives different bytes when called twice", "[unit]") {
  SecureRandom r;
  CHECK(r.HexString(16) != r.HexString(16));
}

TEST_CASE("IdGenerator gives increasing ids when the clock stands still", "[unit]") {
  FakeClock clock;
  IdGenerator ids(clock);
  int64_t last = ids.Next();
  CHECK(IdGenerator::UnixMillisOf(last) == clock.NowUnixMillis());
  for (int i = 0; i < 1000; ++i) {
    const int64_t next = ids.Next();
    CHECK(next > last);
    last = next;
  }
}

TEST_CASE("IdGenerator keeps ids increasing when the clock steps back", "[unit]") {
  FakeClock clock(2'000'000);
  IdGenerator ids(clock);
  const int64_t before = ids.Next();
  clock.SetUnixMillis(1'000'000);
  CHECK(ids.Next() > before);
}

TEST_CASE("IdGenerator gives unique ids when called from several threads", "[unit]") {
  SystemClock clock;
  IdGenerator ids(clock);
  std::vector<std::vector<int64_t>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& out : per_thread) {
    threads.emplace_back([&ids, &out] {
      for (int i = 0; i < 5000; ++i) out.push_back(ids.Next());
    });
  }
  for (auto& t : threads) t.join();
  std::set<int64_t> all;
  for (const auto& v : per_thread) all.insert(v.begin(), v.end());
  CHECK(all.size() == 20000);
}

TEST_CASE("Sha256Hex matches the FIPS 180-2 vector when hashing abc", "[unit]") {
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Sha1Hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST_CASE("HmacSha256Hex matches RFC 4231 case 2 when given its key and data", "[unit]") {
  CHECK(HmacSha256Hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("ConstantTimeEquals tells equal from different when lengths match or not", "[unit]") {
  CHECK(ConstantTimeEquals("abc", "abc"));
  CHECK_FALSE(ConstantTimeEquals("abc", "abd"));
  CHECK_FALSE(ConstantTimeEquals("abc", "abcd"));
  CHECK(ConstantTimeEquals("", ""));
}

}  // namespace
}  // namespace scrm::core

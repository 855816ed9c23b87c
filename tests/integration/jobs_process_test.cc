// Background work that fails is visible and can be run again, with the real processes: scrm-sim
// serves the platform APIs with an injected fault, a real scrmd fails the enrichment for good,
// GET /api/v1/jobs?status=failed lists it, and after the fault is removed
// POST /api/v1/jobs/{id}/retry runs it to success (the follower and the contact merge).
#include <httplib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/integration/scrmd_fixture.h"

namespace scrm::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr char kFollowerJobsProcess[] = "oDEMOfollower000000000000001";
constexpr char kContactJobsProcess[] = "wmDEMOcustomer0000000000000001";

// An id in a JSON body as text, whether it is sent as a string or as a number.
std::string IdText(const json& id) { return id.is_string() ? id.get<std::string>() : id.dump(); }

// Polls `probe` until it is true or 30 s passed.
template <typename Probe>
bool JobsProcessWaitFor(Probe probe) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (probe()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return probe();
}

json JobsProcessGetJson(httplib::Client& client, const std::string& path,
                        const httplib::Headers& auth) {
  auto res = client.Get(path.c_str(), auth);
  REQUIRE(res);
  INFO(path << " -> " << res->status << " " << res->body);
  REQUIRE(res->status == 200);
  return json::parse(res->body);
}

// The value of the gauge line `series` on /metrics, -1 when absent.
double JobsProcessMetricValue(httplib::Client& client, const std::string& series) {
  auto res = client.Get("/metrics");
  REQUIRE(res);
  const size_t at = res->body.find(series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(res->body.substr(at + series.size() + 1));
}

TEST_CASE("scrmd lists a failed enrichment and runs it to success after POST retry",
          "[integration]") {
  TempDir dir;
  SimServer sim(SourcePath("sim/scenarios/demo.json"));
  httplib::Client sim_client = sim.Client();
  // Every user/info is refused as an unknown openid (40003): the OA enrichment fails for good on
  // its first answer.
  const json faults = {
      {"faults", {{{"kind", "errcode"}, {"api", "user/info"}, {"errcode", 40003}}}}};
  auto set = sim_client.Post("/sim/faults", faults.dump(), "application/json");
  REQUIRE(set);
  REQUIRE(set->status == 200);

  // Info logs: the retry's audit line is checked below.
  const std::string config =
      WriteScrmdConfig(dir, {{"accounts", DemoAccounts(sim.url)}, {"log", {{"level", "info"}}}});
  const std::string admin_key = CreateKey(config, "admin", "ops");
  const std::string sales_key = CreateKey(config, "sales", "s");
  ScrmdServer scrmd(config, WriteDemoSecrets(dir));
  const RunResult played =
      Run({SimBinary(), "play", "--scenario", SourcePath("sim/scenarios/demo.json"), "--target",
           "http://127.0.0.1:" + std::to_string(scrmd.port), "--sim", sim.url});
  INFO(played.out + played.err);
  REQUIRE(played.exit_code == 0);

  httplib::Client client = scrmd.Client();
  const httplib::Headers admin = {{"Authorization", "Bearer " + admin_key}};
  json failed;
  const bool listed = JobsProcessWaitFor([&] {
    failed = JobsProcessGetJson(client, "/api/v1/jobs?status=failed&kind=enrich", admin)["items"];
    return failed.size() == 2;  // both OA followers of the demo: every user/info is refused
  });
  INFO((listed ? std::string() : scrmd.process.Stderr()));
  INFO((listed ? std::string() : JobsProcessGetJson(client, "/api/v1/jobs", admin).dump()));
  REQUIRE(listed);
  INFO(failed.dump(2));
  const json job = failed[0]["payload"]["value"] == kFollowerJobsProcess ? failed[0] : failed[1];
  REQUIRE(job["id"].is_string());
  CHECK(job["kind"] == "enrich");
  CHECK(job["account"] == "shop");
  CHECK(job["status"] == "failed");
  CHECK(job["attempts"] == 1);
  CHECK(job["last_outcome"] == "refused");
  CHECK(job["last_errcode"] == 40003);
  CHECK(job["payload"]["value"] == kFollowerJobsProcess);
  const std::string id = job["id"].get<std::string>();
  CHECK(JobsProcessGetJson(client, "/api/v1/jobs/" + id, admin)["status"] == "failed");
  CHECK(JobsProcessWaitFor([&] {
    return JobsProcessMetricValue(client, R"(scrmd_outbox_failed_jobs{kind="enrich"})") == 2;
  }));

  // Not for other roles; a done job has nothing to retry.
  const httplib::Headers sales = {{"Authorization", "Bearer " + sales_key}};
  auto refused = client.Post(("/api/v1/jobs/" + id + "/retry").c_str(), sales, "", "text/plain");
  REQUIRE(refused);
  CHECK(refused->status == 403);
  const json done =
      JobsProcessGetJson(client, "/api/v1/jobs?status=done&kind=enrich", admin)["items"];
  REQUIRE(done.size() == 1);  // the WeCom contact's enrichment
  auto not_failed = client.Post(("/api/v1/jobs/" + IdText(done[0]["id"]) + "/retry").c_str(), admin,
                                "", "text/plain");
  REQUIRE(not_failed);
  CHECK(not_failed->status == 400);

  // The cause is fixed: the platform answers again. The retry runs the job to success.
  auto cleared = sim_client.Delete("/sim/faults");
  REQUIRE(cleared);
  REQUIRE(cleared->status == 200);
  auto retried = client.Post(("/api/v1/jobs/" + id + "/retry").c_str(), admin, "", "text/plain");
  REQUIRE(retried);
  INFO(retried->body);
  REQUIRE(retried->status == 200);
  CHECK(json::parse(retried->body)["status"] == "pending");
  CHECK(json::parse(retried->body)["attempts"] == 0);
  json after;
  CHECK(JobsProcessWaitFor([&] {
    after = JobsProcessGetJson(client, "/api/v1/jobs/" + id, admin);
    return after["status"] == "done";
  }));
  INFO(after.dump(2));
  CHECK(after["attempts"] == 1);
  // The other follower's job stays failed until someone retries it.
  const json still = JobsProcessGetJson(client, "/api/v1/jobs?status=failed", admin)["items"];
  REQUIRE(still.size() == 1);
  CHECK(still[0]["id"] != id);
  CHECK(JobsProcessWaitFor([&] {
    return JobsProcessMetricValue(client, R"(scrmd_outbox_failed_jobs{kind="enrich"})") == 1;
  }));
  // The two customers of one person are one now.
  const json customers = JobsProcessGetJson(
      client, std::string("/api/v1/customers?q=") + kContactJobsProcess, admin)["items"];
  REQUIRE(customers.size() == 1);
  const json view =
      JobsProcessGetJson(client, "/api/v1/customers/" + IdText(customers[0]["id"]), admin);
  bool merged = false;
  for (const json& identity : view["identities"]) {
    if (identity["value"] == kFollowerJobsProcess) merged = true;
  }
  CHECK(merged);
  // The audit line names the job and the key.
  const json keys = JobsProcessGetJson(client, "/api/v1/keys", admin)["keys"];
  std::string admin_id;
  for (const json& k : keys) {
    if (k["name"] == "ops") admin_id = IdText(k["id"]);
  }
  CHECK(scrmd.process.Stderr().find("jobs: job " + id) != std::string::npos);
  CHECK(scrmd.process.Stderr().find("by key " + admin_id) != std::string::npos);
  scrmd.Stop();
  sim.Stop();
}

}  // namespace
}  // namespace scrm::testing

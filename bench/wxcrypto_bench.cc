// wxcrypto_bench: throughput of MsgCrypt::DecryptMessage (signature + base64 + AES + frame checks)
// and EncryptMessage on a ~600-byte WeCom 客户联系 event, single thread. Run on purpose.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "channels/wxcrypto/wxcrypto.h"
#include "src/core/random.h"

namespace {

using scrm::wxcrypto::EncryptedMessage;
using scrm::wxcrypto::MsgCrypt;
using scrm::wxcrypto::Result;

constexpr int kIterations = 200000;
constexpr char kTimestamp[] = "1409659813";
constexpr char kNonce[] = "1372623149";

// A change_external_contact event padded with a long Content-like field to ~600 bytes.
std::string WeComMessage() {
  std::string msg =
      "<xml><ToUserName><![CDATA[ww5823bf96d3bd56c7]]></ToUserName>"
      "<FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1409659813</CreateTime>"
      "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event>"
      "<ChangeType><![CDATA[add_external_contact]]></ChangeType>"
      "<UserID><![CDATA[zhangsan]]></UserID>"
      "<ExternalUserID><![CDATA[woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA]]></ExternalUserID>"
      "<State><![CDATA[campaign-2024-spring]]></State>"
      "<WelcomeCode><![CDATA[CALLBACK_CODE_0123456789abcdefghijklmnopqrstuv]]></WelcomeCode>"
      "<Remark><![CDATA[";
  while (msg.size() < 580) msg += "客户联系";
  msg += "]]></Remark></xml>";
  return msg;
}

template <typename Fn>
double SecondsFor(Fn&& fn) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kIterations; ++i) fn();
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  return elapsed.count();
}

// The plain line the issue asks for, then the table row scripts/bench.sh collects (`^|`).
void Print(const char* name, double seconds, size_t msg_bytes, const char* conditions) {
  const double ops = kIterations / seconds;
  const double us_per_op = seconds * 1e6 / kIterations;
  std::printf("%-18s %10.0f ops/s  %6.3f µs/op  (N=%d, msg=%zu bytes)\n", name, ops, us_per_op,
              kIterations, msg_bytes);
  std::printf("| %s | %.0f ops/s | %.3f µs/op | N=%d, %zu-byte WeCom event, %s, 1 thread |\n", name,
              ops, us_per_op, kIterations, msg_bytes, conditions);
}

}  // namespace

int main() {
  Result<MsgCrypt> crypt = MsgCrypt::Create("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
                                            "ww5823bf96d3bd56c7");
  if (!crypt.ok()) {
    std::fprintf(stderr, "%s\n", crypt.status().ToString().c_str());
    return 1;
  }
  const std::string msg = WeComMessage();
  scrm::core::SecureRandom random;
  Result<EncryptedMessage> message = crypt->EncryptMessage(msg, kTimestamp, kNonce, random);
  if (!message.ok()) return 1;
  const std::string& signature = message->msg_signature;
  const std::string& encrypt = message->encrypt;
  Result<std::string> check = crypt->DecryptMessage(signature, kTimestamp, kNonce, encrypt);
  if (!check.ok() || *check != msg) {
    std::fprintf(stderr, "round trip failed\n");
    return 1;
  }

  // Every result feeds `sink` so the calls cannot be optimised away.
  size_t sink = 0;
  for (int i = 0; i < kIterations / 10; ++i) {  // warm-up: caches, allocator, CPU clock
    sink += crypt->DecryptMessage(signature, kTimestamp, kNonce, encrypt)->size();
  }
  const double decrypt_s = SecondsFor(
      [&] { sink += crypt->DecryptMessage(signature, kTimestamp, kNonce, encrypt)->size(); });
  const double encrypt_s = SecondsFor(
      [&] { sink += crypt->EncryptMessage(msg, kTimestamp, kNonce, random)->encrypt.size(); });
  const std::string decrypt_conditions =
      "msg_signature + base64 + AES + checks, Encrypt " + std::to_string(encrypt.size()) + " chars";
  Print("wxcrypto_decrypt", decrypt_s, msg.size(), decrypt_conditions.c_str());
  Print("wxcrypto_encrypt", encrypt_s, msg.size(),
        "SecureRandom prefix + AES + base64 + signature");
  return sink == 0 ? 1 : 0;  // uses the sink; every call returned bytes
}

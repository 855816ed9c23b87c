#include "src/platform/credential.h"

namespace scrm::platform {
Credential CredentialFor(const config::AccountConfig& account) {
  Credential credential;
  credential.account_id = account.id;
  credential.platform = account.platform;
  credential.api_base = account.api_base;
  if (credential.api_base.empty()) {
    credential.api_base = std::string(account.platform == model::Platform::kWecom
                                          ? config::kWecomDefaultApiBase
                                          : config::kOfficialAccountDefaultApiBase);
  }
  if (account.platform == model::Platform::kWecom) {
    credential.app_id = account.corp_id;
    credential.secret = account.secret;
  } else {
    credential.app_id = account.app_id;
    credential.secret = account.app_secret;
  }
  return credential;
}

}  // namespace scrm::platform

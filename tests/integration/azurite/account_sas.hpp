#pragma once
// Account shared access signatures (SAS), signed here from the storage account
// key the way Azure Storage checks them, so the test shares no signing code with
// the server it talks to.
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace mdesync::testing {

// Azurite's built-in account and its published key (EMULATOR_ACCOUNT_KEY_STR in
// Azurite's constants): every emulator has this pair, so it is no secret.
inline constexpr std::string_view azurite_account = "devstoreaccount1";
inline constexpr std::string_view azurite_key =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

struct AccountSas {
  std::string permissions;     // sp, letters in Azure's order: r w d l a c u p
  std::string resource_types;  // srt: s (service), c (container), o (object)
  std::string services = "b";  // ss: blob only
  std::string start;           // st; empty: valid from when storage sees it
  std::string expiry;          // se
  // sv. Versions before 2020-12-06 sign without the encryption scope line.
  std::string version = "2019-12-12";
};

// The SAS query string (no leading '?'): every value percent-encoded, sig last.
// `base64_key` is the account key as Azure shows it; the HMAC uses its bytes.
std::string sign(const AccountSas& sas, std::string_view account, std::string_view base64_key);

// "2024-01-02T03:04:05Z": whole seconds, the SAS time format every version accepts.
std::string sas_time(SystemTime t);

}  // namespace mdesync::testing

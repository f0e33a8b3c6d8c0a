#include "tl/protocol/auth.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

namespace tl::protocol {
namespace {
constexpr const char* kContext = "tracklink-control-v1";
}

void init_crypto() {
  if (sodium_init() < 0) {
    std::fputs("tracklink: libsodium failed to initialise\n", stderr);
    std::abort();
  }
}

std::string make_nonce() {
  init_crypto();
  std::string nonce(kNonceBytes, '\0');
  randombytes_buf(nonce.data(), nonce.size());
  return nonce;
}

std::string compute_mac(const std::string& token, const std::string& nonce) {
  init_crypto();
  unsigned char key[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(key, reinterpret_cast<const unsigned char*>(token.data()), token.size());
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key, sizeof key);
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(nonce.data()), nonce.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(kContext),
                                std::char_traits<char>::length(kContext));
  std::string mac(kMacBytes, '\0');
  crypto_auth_hmacsha256_final(&st, reinterpret_cast<unsigned char*>(mac.data()));
  sodium_memzero(key, sizeof key);
  return mac;
}

bool verify_mac(const std::string& token, const std::string& nonce, const std::string& mac) {
  if (mac.size() != kMacBytes) return false;
  const std::string expected = compute_mac(token, nonce);
  return sodium_memcmp(expected.data(), mac.data(), kMacBytes) == 0;
}

SessionKey make_session_key() {
  init_crypto();
  SessionKey key{};
  randombytes_buf(key.data(), key.size());
  return key;
}

}  // namespace tl::protocol

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tl/protocol/auth.h"

namespace tl::protocol {
namespace {

std::string nonce_of(char c) {
  return std::string(kNonceBytes, c);
}

TEST(Auth, MacIsDeterministicForTokenAndNonce) {
  const std::string a = compute_mac("studio-token", nonce_of('n'));
  const std::string b = compute_mac("studio-token", nonce_of('n'));
  EXPECT_EQ(a.size(), kMacBytes);
  EXPECT_EQ(a, b);
  EXPECT_TRUE(verify_mac("studio-token", nonce_of('n'), a));
}

TEST(Auth, MacDependsOnTokenAndNonce) {
  const std::string base = compute_mac("studio-token", nonce_of('n'));
  EXPECT_NE(compute_mac("studio-tokeN", nonce_of('n')), base);
  EXPECT_NE(compute_mac("", nonce_of('n')), base);
  std::string other = nonce_of('n');
  other[31] = 'm';
  EXPECT_NE(compute_mac("studio-token", other), base);
  EXPECT_FALSE(verify_mac("wrong-token", nonce_of('n'), base));
  EXPECT_FALSE(verify_mac("studio-token", other, base));
}

TEST(Auth, MacIsNotJustTheTokenOrItsHash) {
  // The token never crosses the wire: the MAC must not contain it.
  const std::string token(kMacBytes, 't');
  const std::string mac = compute_mac(token, nonce_of('n'));
  EXPECT_NE(mac, token);
  EXPECT_EQ(mac.find("tttt"), std::string::npos);
}

TEST(Auth, VerifyRejectsWrongSizes) {
  const std::string mac = compute_mac("tok", nonce_of('x'));
  EXPECT_FALSE(verify_mac("tok", nonce_of('x'), ""));
  EXPECT_FALSE(verify_mac("tok", nonce_of('x'), mac.substr(0, kMacBytes - 1)));
  EXPECT_FALSE(verify_mac("tok", nonce_of('x'), mac + '\0'));
  EXPECT_FALSE(verify_mac("tok", nonce_of('x'), mac + mac));
}

TEST(Auth, VerifyRejectsEveryOneBitFlip) {
  const std::string mac = compute_mac("tok", nonce_of('x'));
  for (std::size_t i = 0; i < mac.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = mac;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      ASSERT_FALSE(verify_mac("tok", nonce_of('x'), bad)) << i << ":" << bit;
    }
  }
}

TEST(Auth, NoncesAre32FreshRandomBytes) {
  std::set<std::string> seen;
  for (int i = 0; i < 64; ++i) {
    const std::string n = make_nonce();
    ASSERT_EQ(n.size(), kNonceBytes);
    seen.insert(n);
  }
  EXPECT_EQ(seen.size(), 64u);
  // Not a constant fill: across 64 nonces every byte position takes several values.
  for (std::size_t pos = 0; pos < kNonceBytes; ++pos) {
    std::set<char> values;
    for (const std::string& n : seen) values.insert(n[pos]);
    EXPECT_GT(values.size(), 8u) << "byte " << pos;
  }
  // And the 32 bytes of one nonce are not all the same.
  const std::string n = make_nonce();
  EXPECT_GT(std::set<char>(n.begin(), n.end()).size(), 8u);
}

TEST(Auth, SessionKeysDifferBetweenCalls) {
  std::set<SessionKey> keys;
  for (int i = 0; i < 32; ++i) keys.insert(make_session_key());
  EXPECT_EQ(keys.size(), 32u);
  EXPECT_NE(make_session_key(), SessionKey{}) << "not all zero";
}

TEST(Auth, InitCryptoIsIdempotent) {
  init_crypto();
  init_crypto();
  EXPECT_EQ(compute_mac("a", "b"), compute_mac("a", "b"));
}

}  // namespace
}  // namespace tl::protocol

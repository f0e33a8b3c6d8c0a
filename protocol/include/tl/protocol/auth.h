#pragma once
//! Challenge-response authentication of control connections with a shared token.
//!
//! The server sends a random nonce; the client proves it knows the token with
//! HMAC-SHA256(key = SHA-256(token), nonce || "tracklink-control-v1"). The token
//! itself never crosses the wire.

#include <array>
#include <cstdint>
#include <string>

#include "tl/protocol/audio_packet.h"

namespace tl::protocol {

inline constexpr std::size_t kNonceBytes = 32;
inline constexpr std::size_t kMacBytes = 32;

//! Initialises libsodium once; safe to call from several places. Aborts if it cannot.
void init_crypto();

std::string make_nonce();
std::string compute_mac(const std::string& token, const std::string& nonce);
//! Constant-time comparison of mac against the expected one.
bool verify_mac(const std::string& token, const std::string& nonce, const std::string& mac);

//! A fresh random packet-authentication key.
SessionKey make_session_key();

}  // namespace tl::protocol

#include "netem/safety.h"

#include <asio/ip/address.hpp>

namespace tl::netem {

bool is_loopback_host(const std::string& host) {
  const std::string h = host == "localhost" ? "127.0.0.1" : host;
  asio::error_code ec;
  const auto address = asio::ip::make_address(h, ec);
  if (ec) return false;
  if (address.is_v4()) return address.to_v4().is_loopback();
  const auto v6 = address.to_v6();
  if (v6.is_loopback()) return true;
  return v6.is_v4_mapped() && asio::ip::make_address_v4(asio::ip::v4_mapped, v6).is_loopback();
}

Status check_forward_target(const std::string& host, bool allow_nonlocal, const char* action) {
  asio::error_code ec;
  (void)asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return Error{"'" + host + "' is not a numeric IP address (names are not resolved)"};
  if (!allow_nonlocal && !is_loopback_host(host)) {
    return Error{
        std::string("refusing to ") + action + " " + host +
        ": network tests only send to loopback (127.0.0.0/8, ::1); pass --allow-nonlocal to override"};
  }
  return {};
}

}  // namespace tl::netem

#include "tl/common/token.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace tl {
namespace {
std::string strip(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) {
    s.pop_back();
  }
  return s;
}
}  // namespace

Result<std::string> load_token(const std::string& token_file) {
  std::string token;
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    if (!in) return Error{"cannot read token file '" + token_file + "'"};
    std::stringstream ss;
    ss << in.rdbuf();
    token = strip(ss.str());
    if (token.empty()) return Error{"token file '" + token_file + "' is empty"};
    return token;
  }
  if (const char* env = std::getenv("TRACKLINK_TOKEN"); env != nullptr) token = strip(env);
  if (token.empty()) {
    return Error{"no control token: pass --token-file FILE or set TRACKLINK_TOKEN"};
  }
  return token;
}

}  // namespace tl

#pragma once
//! Reads the fields of a JSON object a tracklink writer wrote (take.json, automation.json).
//!
//! A field that is absent keeps the value it had (the reader's default); one of another
//! type, or out of its type's range, is an error that names it ("tracks[2].channel is
//! not a whole number from 0 to 4294967295"). Only the first error is kept: the reader
//! goes on, and the caller checks the error once at the end.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tl::mixer {

class JsonFields {
 public:
  //! value: a JSON object (anything else is an error); where: how it is named in errors
  //! ("" for a document's top level); error: where the first error goes.
  JsonFields(const nlohmann::json& value, std::string where, std::string& error);

  bool has(const char* key) const;
  void get(const char* key, std::string& out);
  void get(const char* key, bool& out);
  void get(const char* key, double& out);
  void get(const char* key, std::int64_t& out);
  //! A whole number that may be absent (then out stays as it is).
  void get(const char* key, std::optional<std::int64_t>& out);
  void get(const char* key, std::uint64_t& out);
  void get(const char* key, std::uint32_t& out);
  void get(const char* key, std::uint16_t& out);
  //! An object field as compact JSON text (keys sorted).
  void get_json(const char* key, std::string& out);
  //! The object under key (absent: an empty one).
  JsonFields object(const char* key);
  //! Calls fn for each element of the array under key (absent: none); each must be an object.
  void each(const char* key, const std::function<void(JsonFields&)>& fn);
  //! A list of whole numbers (a 24-bit sample each: -8388608..8388607).
  void get_samples(const char* key, std::vector<std::int32_t>& out);
  //! A list of strings.
  void get(const char* key, std::vector<std::string>& out);
  //! Calls fn for each element of the array under key (absent: none); each must be a
  //! list of two numbers.
  void each_pair(const char* key, const std::function<void(double, double)>& fn);
  //! Marks the field as one the reader cannot use: the error is "<key> <problem>".
  void reject(const char* key, const std::string& problem);

 private:
  //! The value under key, or nullptr when absent.
  const nlohmann::json* find(const char* key) const;
  std::string name(const char* key) const;
  template <class T>
  void get_integer(const char* key, T& out);

  const nlohmann::json& object_;
  std::string where_;
  std::string& error_;
};

}  // namespace tl::mixer

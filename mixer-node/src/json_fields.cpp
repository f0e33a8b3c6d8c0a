#include "tl/mixer/json_fields.h"

#include <limits>
#include <nlohmann/json.hpp>

namespace tl::mixer {
namespace {
const nlohmann::json& empty_object() {
  static const nlohmann::json empty = nlohmann::json::object();
  return empty;
}
}  // namespace

JsonFields::JsonFields(const nlohmann::json& value, std::string where, std::string& error)
    : object_(value.is_object() ? value : empty_object()), where_(std::move(where)), error_(error) {
  if (!value.is_object() && error_.empty()) {
    error_ = (where_.empty() ? std::string("the document") : where_) + " is not an object";
  }
}

const nlohmann::json* JsonFields::find(const char* key) const {
  const auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

bool JsonFields::has(const char* key) const {
  return find(key) != nullptr;
}

std::string JsonFields::name(const char* key) const {
  return where_.empty() ? std::string(key) : where_ + "." + key;
}

void JsonFields::reject(const char* key, const std::string& problem) {
  if (error_.empty()) error_ = name(key) + " " + problem;
}

void JsonFields::get(const char* key, std::string& out) {
  const nlohmann::json* v = find(key);
  if (v == nullptr) return;
  if (!v->is_string()) return reject(key, "is not text");
  out = v->get<std::string>();
}

void JsonFields::get(const char* key, bool& out) {
  const nlohmann::json* v = find(key);
  if (v == nullptr) return;
  if (!v->is_boolean()) return reject(key, "is not true or false");
  out = v->get<bool>();
}

void JsonFields::get(const char* key, double& out) {
  const nlohmann::json* v = find(key);
  if (v == nullptr) return;
  if (!v->is_number()) return reject(key, "is not a number");
  out = v->get<double>();
}

template <class T>
void JsonFields::get_integer(const char* key, T& out) {
  const nlohmann::json* v = find(key);
  if (v == nullptr) return;
  using Limits = std::numeric_limits<T>;
  bool fits = false;
  if (v->is_number_unsigned()) {
    const auto u = v->get<std::uint64_t>();
    fits = u <= static_cast<std::uint64_t>(Limits::max());
    if (fits) out = static_cast<T>(u);
  } else if (v->is_number_integer()) {
    const auto i = v->get<std::int64_t>();
    fits = i >= static_cast<std::int64_t>(Limits::min()) &&
           (Limits::is_signed || static_cast<std::uint64_t>(i) <= static_cast<std::uint64_t>(Limits::max()));
    if (fits) out = static_cast<T>(i);
  }
  if (fits) return;
  if constexpr (Limits::is_signed) {
    reject(key, "is not a whole number");
  } else if constexpr (Limits::digits >= 64) {
    reject(key, "is not a whole number of 0 or more");
  } else {
    reject(key, "is not a whole number from 0 to " + std::to_string(Limits::max()));
  }
}

void JsonFields::get(const char* key, std::int64_t& out) {
  get_integer(key, out);
}
void JsonFields::get(const char* key, std::optional<std::int64_t>& out) {
  if (!has(key)) return;
  std::int64_t v = 0;
  get_integer(key, v);
  out = v;
}
void JsonFields::get(const char* key, std::uint64_t& out) {
  get_integer(key, out);
}
void JsonFields::get(const char* key, std::uint32_t& out) {
  get_integer(key, out);
}
void JsonFields::get(const char* key, std::uint16_t& out) {
  get_integer(key, out);
}

void JsonFields::get_json(const char* key, std::string& out) {
  const nlohmann::json* v = find(key);
  if (v == nullptr) return;
  if (!v->is_object()) return reject(key, "is not an object");
  out = v->dump();
}

JsonFields JsonFields::object(const char* key) {
  const nlohmann::json* v = find(key);
  if (v != nullptr && !v->is_object()) reject(key, "is not an object");
  return JsonFields(v != nullptr && v->is_object() ? *v : empty_object(), name(key), error_);
}

void JsonFields::each(const char* key, const std::function<void(JsonFields&)>& fn) {
  const nlohmann::json* v = find(key);
  if (v == nullptr) return;
  if (!v->is_array()) return reject(key, "is not a list");
  for (std::size_t i = 0; i < v->size(); ++i) {
    JsonFields element((*v)[i], name(key) + "[" + std::to_string(i) + "]", error_);
    fn(element);
  }
}

void JsonFields::get_samples(const char* key, std::vector<std::int32_t>& out) {
  const nlohmann::json* v = find(key);
  if (v == nullptr) return;
  if (!v->is_array()) return reject(key, "is not a list");
  out.clear();
  for (std::size_t i = 0; i < v->size(); ++i) {
    const nlohmann::json& e = (*v)[i];
    const std::int64_t x = e.is_number_integer() ? e.get<std::int64_t>() : INT64_MAX;
    if (x < -8388608 || x > 8388607) {
      return reject(key, "item " + std::to_string(i) + " is not a 24-bit sample");
    }
    out.push_back(static_cast<std::int32_t>(x));
  }
}

void JsonFields::get(const char* key, std::vector<std::string>& out) {
  const nlohmann::json* v = find(key);
  if (v == nullptr) return;
  if (!v->is_array()) return reject(key, "is not a list");
  out.clear();
  for (std::size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string()) return reject(key, "item " + std::to_string(i) + " is not a string");
    out.push_back((*v)[i].get<std::string>());
  }
}

void JsonFields::each_pair(const char* key, const std::function<void(double, double)>& fn) {
  const nlohmann::json* v = find(key);
  if (v == nullptr) return;
  if (!v->is_array()) return reject(key, "is not a list");
  for (std::size_t i = 0; i < v->size(); ++i) {
    const nlohmann::json& e = (*v)[i];
    if (!e.is_array() || e.size() != 2 || !e[0].is_number() || !e[1].is_number()) {
      return reject(key, "item " + std::to_string(i) + " is not a pair of numbers");
    }
    fn(e[0].get<double>(), e[1].get<double>());
  }
}

}  // namespace tl::mixer

// Running a tlctl command against a mixer: its request, the reply, what the operator sees.
#include "tl/ctl/commands.h"

#include <chrono>
#include <cstdint>
#include <iostream>

#include "tl/common/clock.h"
#include "tl/common/token.h"
#include "tl/ctl/command_table.h"
#include "tl/ctl/format.h"
#include "tl/ctl/live.h"
#include "tl/protocol/control_client.h"

namespace tl::ctl {
namespace {

using tl::proto::Envelope;
using Millis = std::chrono::milliseconds;

}  // namespace

int exit_code_of_failed_call(std::optional<tl::proto::ErrorReply::Code> refusal) {
  if (!refusal) return kExitUnreachable;
  switch (*refusal) {
    case tl::proto::ErrorReply::BAD_VALUE:
      return kExitUsage;
    case tl::proto::ErrorReply::UNAUTHENTICATED:
      return kExitUnreachable;
    default:
      return kExitMixerError;
  }
}

tl::proto::Envelope build_request(const Invocation& inv) {
  Envelope env;
  command_spec(inv.command).request(inv, env);
  return env;
}

const google::protobuf::Message* body_message(const tl::proto::Envelope& env) {
  const auto* oneof = Envelope::descriptor()->FindOneofByName("body");
  const auto* reflection = env.GetReflection();
  const auto* field = reflection->GetOneofFieldDescriptor(env, oneof);
  if (field == nullptr) return nullptr;
  return &reflection->GetMessage(env, field);
}

std::string render_reply(const Invocation& inv, const tl::proto::Envelope& reply, double rtt_ms) {
  const CommandSpec& spec = command_spec(inv.command);
  if (reply.body_case() != spec.reply) return {};
  if (inv.json) return to_json(*body_message(reply)) + "\n";
  return spec.render(inv, reply, rtt_ms);
}

int run(const Invocation& inv, std::ostream& out, std::ostream& err) {
  const CommandSpec& spec = command_spec(inv.command);
  auto token = load_token(inv.token_file);
  if (!token) {
    err << "tlctl: " << token.error() << "\n";
    return kExitUnreachable;
  }
  const Millis timeout(inv.timeout_ms);
  protocol::ControlClient client;
  if (auto s = client.connect(inv.mixer.host, inv.mixer.port, token.value(), tl::proto::CLIENT_CONTROL,
                              "tlctl", timeout);
      !s) {
    err << "tlctl: " << s.error() << "\n";
    return kExitUnreachable;
  }
  if (spec.after_reply != nullptr || spec.instead != nullptr) install_stop_handler();
  if (spec.instead != nullptr) return spec.instead(inv, client, out, err);

  const Millis call_timeout =
      spec.reply_timeout_ms > 0 && !inv.timeout_given ? Millis(spec.reply_timeout_ms) : timeout;
  Envelope request = build_request(inv);
  const std::int64_t sent = monotonic_ns();
  auto reply = client.call(std::move(request), call_timeout);
  const double rtt_ms = static_cast<double>(monotonic_ns() - sent) / 1e6;
  if (!reply) {
    const int code = exit_code_of_failed_call(client.last_refusal());
    err << "tlctl: " << reply.error() << "\n";
    if (code == kExitUsage) err << "Run with --help for more information.\n";
    return code;
  }
  const std::string text = render_reply(inv, reply.value(), rtt_ms);
  if (text.empty()) {
    const auto* body = body_message(reply.value());
    err << "tlctl: unexpected reply from the mixer: "
        << (body != nullptr ? body->GetDescriptor()->name() : std::string("empty envelope")) << "\n";
    return kExitMixerError;
  }
  if (spec.after_reply == nullptr) {
    out << text << std::flush;
    return kExitOk;
  }
  // A live view prints only its events as JSON; its human header says what is being watched.
  if (!inv.json) out << text << std::flush;
  return spec.after_reply(inv, client, out, err);
}

int tlctl_main(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  ParseOutcome parsed = parse_command_line(args, std::cout, std::cerr);
  if (!parsed.invocation) return parsed.exit_code;
  return run(*parsed.invocation, std::cout, std::cerr);
}

}  // namespace tl::ctl

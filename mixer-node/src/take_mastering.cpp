#include "tl/mixer/take_mastering.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <system_error>
#include <utility>

#include "tl/mastering/master.h"
#include "tl/mixer/take_render.h"
#include "tl/protocol/ranges.h"

namespace fs = std::filesystem;

namespace tl::mixer {
namespace {

//! Thrown from a progress step when the mixer stops: unwinds the job (its files close).
struct Stopped {};

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove(p, ec);
}

}  // namespace

TakeMastering::~TakeMastering() {
  stop();
}

fs::path TakeMastering::output_for(const fs::path& dir, const std::string& preset) {
  const fs::path folder = dir / "master";
  std::error_code ec;
  fs::path out = folder / (preset + ".wav");
  for (int n = 2; fs::exists(out, ec) || fs::exists(fs::path(out.string() + ".part"), ec); ++n) {
    out = folder / (preset + "-" + std::to_string(n) + ".wav");
  }
  return out;
}

std::variant<proto::MasterTakeState, TakeMastering::Refusal> TakeMastering::start(Job job) {
  const auto preset = mastering::find_preset(job.preset);
  if (!preset) {
    std::string names;
    for (const auto& p : mastering::presets()) names += (names.empty() ? "" : ", ") + std::string(p.name);
    return Refusal{proto::ErrorReply::BAD_VALUE, "no delivery preset '" + job.preset + "' (" + names + ")"};
  }
  // A remote operator's typo must not make a -200 LUFS file (tl-master's --target takes any).
  constexpr protocol::Range target = protocol::kMasterTargetLufs;
  if (job.target_lufs && !target.contains(*job.target_lufs)) {
    return Refusal{proto::ErrorReply::BAD_VALUE,
                   fmt::format("a target is {} to {} LUFS", target.lo, target.hi)};
  }
  std::lock_guard lock(mutex_);
  if (running_) {
    return Refusal{proto::ErrorReply::CONFLICT, "already mastering take '" + last_.take_name() + "' (" +
                                                    last_.preset() + ", " +
                                                    std::to_string(int(100 * last_.progress())) +
                                                    "%): one at a time; ask again when it is done"};
  }
  if (thread_.joinable()) thread_.join();  // the last job's thread, finished
  std::error_code ec;
  fs::create_directories(job.dir / "master", ec);
  if (ec) {
    return Refusal{proto::ErrorReply::INTERNAL,
                   "cannot make " + (job.dir / "master").string() + ": " + ec.message()};
  }
  fs::path out = output_for(job.dir, job.preset);
  last_ = proto::MasterTakeState{};
  last_.set_take_name(job.take);
  last_.set_preset(job.preset);
  last_.set_state("running");
  last_.set_stage("starting");
  last_.set_output(out.string());
  running_ = true;
  stop_.store(false);
  spdlog::info("take '{}': mastering to {} ({}) in the background", job.take, last_.output(), job.preset);
  thread_ = std::thread(
      [this, job = std::move(job), out = std::move(out)]() mutable { run(std::move(job), std::move(out)); });
  return last_;
}

proto::MasterTakeState TakeMastering::state(const std::string& take) const {
  std::lock_guard lock(mutex_);
  if (last_.take_name() == take) return last_;
  proto::MasterTakeState none;
  none.set_take_name(take);
  none.set_state("none");
  return none;
}

void TakeMastering::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void TakeMastering::update(double progress, std::string_view stage) {
  if (stop_.load(std::memory_order_relaxed)) throw Stopped{};
  std::lock_guard lock(mutex_);
  last_.set_progress(progress);
  last_.set_stage(std::string(stage));
}

void TakeMastering::run(Job job, fs::path out) {
  const auto started = std::chrono::steady_clock::now();
  // The mix goes beside the master first; mixing is about a third of the work (the
  // master reads the mix twice or more: measure, render, measure the file).
  const fs::path mix = fs::path(out.string() + ".mix.wav");
  const auto finish = [&](const std::string& state, const std::string& message) {
    remove_quietly(mix);
    std::lock_guard lock(mutex_);
    last_.set_state(state);
    last_.set_message(message);
    last_.set_stage("");
    last_.set_seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    running_ = false;
  };
  try {
    RenderOptions render{.take_dir = job.dir, .out = mix};
    render.progress = [&](double done, double total) {
      update(total > 0.0 ? done / total / 3.0 : 0.0, "mixing the take");
    };
    auto mixed = render_take(render);
    if (!mixed) {
      spdlog::error("take '{}': mastering: cannot mix it: {}", job.take, mixed.error());
      finish("failed", "cannot mix the take: " + mixed.error());
      return;
    }
    mastering::MasterSettings settings = mastering::settings_of(*mastering::find_preset(job.preset));
    if (job.target_lufs) settings.target_lufs = *job.target_lufs;
    auto report = mastering::master_file(
        mix.string(), out.string(), settings,
        [&](double done, std::string_view) { update(1.0 / 3.0 + done * 2.0 / 3.0, "mastering"); });
    if (!report) {
      // The mix is this job's step: the operator knows it as the take's.
      std::string why = report.error();
      for (std::size_t at; (at = why.find("'" + mix.string() + "'")) != std::string::npos;) {
        why.replace(at, mix.string().size() + 2, "the take's mix");
      }
      spdlog::error("take '{}': mastering failed: {}", job.take, why);
      finish("failed", why);
      return;
    }
    {
      std::lock_guard lock(mutex_);
      last_.set_progress(1.0);
      last_.set_integrated_lufs(report->after.integrated_lufs);
      last_.set_true_peak_dbtp(report->after.true_peak_dbtp);
      last_.set_loudness_range_lu(report->after.range_lu);
      last_.set_gain_db(report->gain_db);
    }
    finish("done", "");
    spdlog::info("take '{}': mastered to {}: {:.1f} LUFS, {:.1f} dBTP", job.take, out.string(),
                 report->after.integrated_lufs, report->after.true_peak_dbtp);
  } catch (const Stopped&) {
    remove_quietly(out);
    remove_quietly(fs::path(out.string() + ".part"));
    remove_quietly(fs::path(mix.string() + ".part"));
    spdlog::warn("take '{}': mastering stopped with the mixer; nothing of it is kept", job.take);
    finish("stopped", "the mixer stopped first");
  }
}

}  // namespace tl::mixer

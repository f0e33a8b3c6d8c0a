// tl-render: re-renders a take's mix offline from its tracks and automation.json.
#include <sys/resource.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "tl/common/cli_range.h"
#include "tl/common/version.h"
#include "tl/mixer/take_manifest.h"
#include "tl/mixer/take_render.h"

namespace {

//! How far the conform of the take in take_dir has got: the bytes of the track files it
//! is writing (<file>.part).
std::uintmax_t bytes_being_written(const std::string& take_dir) {
  std::uintmax_t bytes = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(take_dir, ec)) {
    if (e.path().extension() == ".part") bytes += e.file_size(ec);
  }
  return bytes;
}

//! Waits while take.json says "conforming" and a mixer is at work on it (the count of
//! tracks left falls, or the file being written grows, at least once a minute); a take no
//! mixer conforms is render_take's to refuse.
void wait_for_conform(const std::string& take_dir, bool quiet) {
  using clock = std::chrono::steady_clock;
  std::size_t left = 0;
  std::uintmax_t written = 0;
  auto moved = clock::now();
  for (;;) {
    const auto take = tl::mixer::TakeManifest::read(take_dir);
    if (!take || take->state != tl::mixer::TakeManifest::kConforming) return;
    const std::size_t now_left = take->tracks_conforming();
    if (const std::uintmax_t now_written = bytes_being_written(take_dir); now_written != written) {
      written = now_written;
      moved = clock::now();
    }
    if (now_left != left) {
      left = now_left;
      moved = clock::now();
      if (!quiet)
        std::fprintf(stderr, "tl-render: the mixer is conforming the take: %zu track(s) left\n", left);
    }
    if (clock::now() - moved > std::chrono::seconds(60)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "tl-render: mixes a recorded take again, offline, from its tracks and automation.json (the mix as the "
      "take "
      "began and every change at the frame it was made), through the mixer's own engine"};
  app.set_version_flag("--version", std::string(tl::kTracklinkVersion));
  std::string take_dir, out;
  bool raw = false, as_live = false, compare = false, quiet = false, strict = false;
  double settle_s = 0.5;
  std::int64_t tolerance = 4;
  app.add_option("take", take_dir, "The take's folder (<record-dir>/<take>)")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("--out", out, "Where to write the stereo render (default: <take>/mix-render.wav)");
  app.add_flag("--raw", raw,
               "Mix raw/ tracks (each node's samples where its stamps put them, as the live mix heard them) "
               "instead of the session-aligned ones");
  app.add_flag(
      "--as-live", as_live,
      "The live mix exactly, concealment included: raw/ tracks with the frames the live mix missed "
      "(take.json live_concealed) left out, so they are concealed the same way; --compare then checks "
      "every frame, to 0 LSB unless --tolerance-lsb says otherwise");
  app.add_flag(
      "--compare", compare,
      "Compare the render with the take's mix.wav and exit 3 if they differ by more than --tolerance-lsb");
  app.add_option("--settle", settle_s,
                 "Leave the first seconds out of --compare (state from before the take)")
      ->check(tl::in_range(0.0, 3600.0, "s"))
      ->capture_default_str();
  auto* tolerance_option =
      app.add_option("--tolerance-lsb", tolerance,
                     "Largest difference --compare accepts, in 24-bit LSB (--as-live: 0)")
          ->check(tl::in_range<std::int64_t>(0, 8388608, "LSB"))
          ->capture_default_str();
  app.add_flag("--quiet", quiet, "No progress line");
  app.add_flag("--strict", strict,
               "A track shorter than the take is an error (exit 4, nothing rendered), not a warning");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // bad options: 2, like the other programs
  }

  const bool tty = isatty(STDERR_FILENO) != 0;
  if (as_live && tolerance_option->count() == 0) tolerance = 0;
  tl::mixer::RenderOptions options{.take_dir = take_dir, .out = out, .raw = raw, .as_live = as_live};
  // Just stopped, the mixer may still be writing track files it moves or resamples
  // ("conforming"): wait for it while it gets on, as long as a track takes.
  wait_for_conform(take_dir, quiet);
  // A track cut short plays silence after its end: a warning for each, an error with
  // --strict. (A take that cannot be read is render_take's to report.)
  if (auto cut = tl::mixer::short_tracks(options)) {
    for (const auto& t : cut.value()) {
      std::fprintf(stderr,
                   "tl-render: warning: track %s is %.3f s (%lld frames), the take %.3f s (%lld frames): "
                   "silence after its end\n",
                   t.file.c_str(), static_cast<double>(t.frames) / t.sample_rate,
                   static_cast<long long>(t.frames), static_cast<double>(t.take_frames) / t.sample_rate,
                   static_cast<long long>(t.take_frames));
    }
    if (strict && !cut->empty()) {
      std::fprintf(stderr, "tl-render: --strict: %zu track(s) shorter than the take; nothing rendered\n",
                   cut->size());
      return 4;
    }
  }
  if (!quiet) {
    options.progress = [tty](double done, double total) {
      std::fprintf(stderr, tty ? "\rrendering %.1f of %.1f s" : "rendering %.1f of %.1f s\n", done, total);
    };
  }
  auto summary = tl::mixer::render_take(options);
  if (!quiet && tty) std::fprintf(stderr, "\r\033[K");
  if (!summary) {
    std::fprintf(stderr, "tl-render: %s\n", summary.error().c_str());
    return 1;
  }
  const auto& s = summary.value();
  const double seconds = static_cast<double>(s.frames) / s.sample_rate;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf(
      "%s: %.2f s from %zu tracks, %zu changes; peak %.1f dBFS, %llu clipped; %.1fx real time, %.0f MB peak "
      "memory\n",
      s.out.c_str(), seconds, s.tracks, s.changes, static_cast<double>(s.peak_dbfs),
      static_cast<unsigned long long>(s.clipped), s.cpu_seconds > 0.0 ? seconds / s.cpu_seconds : 0.0,
      static_cast<double>(usage.ru_maxrss) / 1024.0);
  if (s.skipped != 0) {
    std::string owners;
    for (const std::string& o : s.skipped_owners) {
      if (!owners.empty()) owners.append(", ");
      owners.append(o);
    }
    std::printf("%zu scene or change targets have no track in this take (left out): %s\n", s.skipped,
                owners.c_str());
  }
  if (s.backing != 0)
    std::printf("%zu backing tracks played from their files on the take's transport\n", s.backing);
  for (const std::string& b : s.backing_unreadable) {
    std::printf("backing track %s; left out, so the render differs where it played\n", b.c_str());
  }
  if (s.backing_changed) {
    std::printf(
        "a backing track was added or removed during the take: the render plays the ones the take "
        "began with, so it differs from where that happened\n");
  }
  if (as_live) {
    std::printf("as live: %lld input frames left out where the live mix missed them\n",
                static_cast<long long>(s.left_out));
    for (const auto& file : s.not_repeatable) {
      std::printf(
          "%s: its live audio cannot be repeated exactly (decoded Opus, a varispeed read, or a "
          "concealment record cut short)\n",
          file.c_str());
    }
  }
  if (s.moved != 0) {
    std::printf(
        "%zu tracks stand where the conform put them, not where the live mix played them "
        "(take.json moved_samples, conform); --raw repeats the live mix\n",
        s.moved);
  }
  if (!compare) return 0;
  const auto settle = static_cast<std::int64_t>(settle_s * s.sample_rate);
  auto cmp = tl::mixer::compare_with_mix(take_dir, s.out, settle, tolerance, as_live);
  if (!cmp) {
    std::fprintf(stderr, "tl-render: %s\n", cmp.error().c_str());
    return 1;
  }
  const auto& c = cmp.value();
  std::printf(
      "against mix.wav from %.2f s: %lld frames compared, max difference %lld LSB, %lld frames over %lld LSB",
      settle_s, static_cast<long long>(c.compared), static_cast<long long>(c.max_lsb),
      static_cast<long long>(c.differing), static_cast<long long>(tolerance));
  if (c.first_differing >= 0)
    std::printf(" (first at %.3f s)", static_cast<double>(c.first_differing) / s.sample_rate);
  if (c.skipped_concealed != 0) {
    std::printf("; %lld frames left out (concealed live)", static_cast<long long>(c.skipped_concealed));
  }
  std::printf("\n");
  if (c.differing != 0 && c.skipped_concealed != 0) {
    // The frames after a guess differ too: the live mix crossfaded back from it, and its
    // filters and dynamics carried the guess on for a while.
    std::printf(
        "the live mix concealed audio in this take: --as-live repeats it exactly, guesses included\n");
  }
  return c.differing == 0 ? 0 : 3;
}

#pragma once
//! Reopening a take a stopped mixer left unfinished (killed, or the machine went down),
//! so the recorder can complete it from the nodes' spools, or go on recording it.

#include <cstdint>
#include <filesystem>
#include <memory>

#include "tl/common/result.h"
#include "tl/mixer/node_registry.h"
#include "tl/mixer/take.h"
#include "tl/mixer/take_manifest.h"

namespace tl::mixer {

//! The take in dir (manifest: its take.json, not closed) with every file reopened at its
//! end: each track by the node now connected under its name (every silence after its
//! first audio a gap to ask for; an Opus node's whole track a stand-in), and mix.wav.
//! The take runs to where it had got to (its .alive, or its longest file), every track
//! written out to there. An error names the nodes that are not connected (unless
//! skip_absent: their tracks wait in Take::waiting and close as their files hold them),
//! or the file that cannot be reopened.
Result<std::unique_ptr<Take>> reopen_take(const std::filesystem::path& dir, const TakeManifest& manifest,
                                          NodeRegistry& registry, std::uint32_t window_frames,
                                          bool skip_absent = false);

//! The take in dir that its killed mixer was recording in this same session, reopened to
//! go on recording: mix.wav and each track resumed at their ends (a track waits in
//! Take::waiting until its node registers again), automation.json read back (or begun
//! again), .alive kept. now: the take-relative position it goes on from; the stretch from
//! where it had got to (.alive) up to now goes to Take::mixer_down.
Result<std::unique_ptr<Take>> resume_take(const std::filesystem::path& dir, const TakeManifest& manifest,
                                          std::int64_t now, std::uint32_t window_frames);

}  // namespace tl::mixer

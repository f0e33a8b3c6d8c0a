#pragma once
//! Takes as the control channel reports them: the answer to `record stop` and
//! `record recover`, and `tlctl takes`, the takes of a record directory.

#include <filesystem>
#include <string>
#include <vector>

#include "tl/mixer/take_manifest.h"
#include "tl/protocol/control.pb.h"

namespace tl::mixer {

//! A closed take as `record stop` answers: every node's track, then mix.wav (node "mix").
proto::RecordStopped stopped_take(const TakeManifest& manifest, const std::filesystem::path& dir);

//! Every take under record_dir, by name: closed ones ("complete", from their take.json)
//! and ones a stopped mixer left ("unfinished", described from what their files hold).
//! `recording` (the take being recorded now) and folders without a readable take.json
//! are left out.
std::vector<proto::RecordStopped> list_takes(const std::filesystem::path& record_dir,
                                             const std::string& recording);

}  // namespace tl::mixer

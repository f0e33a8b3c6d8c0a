#pragma once
//! Human and JSON renderings of the mixer's replies. Pure functions: no I/O.

#include <string>

#include "tl/protocol/control.pb.h"

namespace google::protobuf {
class Message;
}

namespace tl::ctl {

//! Level in dB with one decimal ("-6.0"); "-inf" at or below -150 dB.
std::string format_db(double db);

//! "0.1s ago", "2m05s ago", "1h02m ago"; "never" for a negative age.
std::string format_last_heard(double seconds);

//! "streaming", "silent", "gone", "unknown".
std::string state_name(tl::proto::NodeState state);

//! "locked", "acquiring", "lost", "unknown".
std::string sync_name(tl::proto::SyncState state);

//! One JSON object on one line: preserve_proto_field_names, always_print_primitive_fields.
std::string to_json(const google::protobuf::Message& message);

//! The node table (header NAME ID STATE CH RATE PACKETS LOSS% LATE BAD TRANSIT(ms)
//! LATENCY(ms) SYNC OFFSET(ms) RTT(ms) DRIFT(ppm) LAST-HEARD; the sync cells are "-"
//! before the node's first report); verbose adds a sync line and one line per channel.
std::string format_nodes(const tl::proto::NodeList& list, bool verbose);

//! "room-a/1  gain -6.0 dB  pan -0.50  mute off  solo off  peak -12.0 dBFS  rms -20.0 dBFS"
std::string format_channel(const std::string& node, const tl::proto::ChannelInfo& info);

//! Line 1: the take name; then "path: ..." and "start sample: ...".
std::string format_record_started(const tl::proto::RecordStarted& r);

//! Line 1: the take name; then "path: ...", "duration: ...", then one line per track.
std::string format_record_stopped(const tl::proto::RecordStopped& r);

//! Finished takes as a table (NAME DURATION(s) TRACKS START PATH) and the take in progress.
std::string format_takes(const tl::proto::TakeList& list);

//! `tlctl take master`: a job's state, its figures when done, its reason when it failed.
std::string format_master_take(const tl::proto::MasterTakeState& s);
//! The progress line of a running job: "mastering t1 (streaming): 43% mastering".
std::string format_master_progress(const tl::proto::MasterTakeState& s);

//! "key: value" lines of MixerStatus.
std::string format_status(const tl::proto::MixerStatus& s);
//! "needs 12.3 ms (99% of packets), mix delay 13.1 ms[, own range 5.0 - 40.0 ms]".
std::string format_node_latency(const tl::proto::NodeInfo& n);
//! How a node's overdubs are placed on the transport timeline (tlctl nodes -v).
std::string format_placement(const tl::proto::NodeInfo& n);
//! The answer to `tlctl latency NODE ...`.
std::string format_latency_state(const tl::proto::LatencyState& s);
std::string format_cue_state(const tl::proto::CueState& s);

//! The strip after a SetChannel.
std::string format_channel_state(const tl::proto::ChannelState& s);

//! "pong from ADDR: rtt 0.123 ms, session clock 12.345678 s"
std::string format_pong(const std::string& mixer, const tl::proto::Pong& pong, double rtt_ms);

//! One line, no newline, for a pushed Event.
std::string format_event(const tl::proto::Event& e);

}  // namespace tl::ctl

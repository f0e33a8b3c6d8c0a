#pragma once
//! The ranges of the values an operator sets over the control channel. tlctl checks them
//! before it sends (a usage error) and the mixer checks them again (an error reply), both
//! from here.

#include <cstdint>
#include <span>
#include <string_view>

namespace tl::protocol {

//! A closed range of a control value.
struct Range {
  float lo;
  float hi;

  //! True for lo <= v <= hi; false for NaN and the infinities.
  constexpr bool contains(double v) const { return v >= lo && v <= hi; }
};

// SetChannel
inline constexpr Range kGainDb{-150.0f, 24.0f};  //!< -150 is silence (tlctl's "-inf")
inline constexpr Range kPan{-1.0f, 1.0f};        //!< left .. right

// SetCue
inline constexpr Range kCueLevelDb{-60.0f, 12.0f};  //!< -60 is off
inline constexpr Range kCueLimitDbtp{-40.0f, 0.0f};

// TempoRequest, ClickRequest: the song's tempo, and the click's peak in every cue mix.
inline constexpr Range kTempoBpm{20.0f, 400.0f};
inline constexpr Range kBeatsPerBar{1.0f, 16.0f};
inline constexpr Range kClickLevelDb{-60.0f, 0.0f};
inline constexpr Range kCountInBars{0.0f, 8.0f};

// TalkRequest: the voice's gain and the programme's under it (tlctl talk --level, --dim).
inline constexpr Range kTalkLevelDb{-60.0f, 12.0f};
inline constexpr Range kTalkDimDb{-60.0f, 0.0f};
inline constexpr float kTalkDimDefaultDb = -20.0f;
//! The longest file a voice plays (it is read into memory: 2 minutes at 48 kHz is 23 MB).
inline constexpr double kTalkFileSeconds = 120.0;

// MasterTake: a loudness target over the delivery preset's (LUFS).
inline constexpr Range kMasterTargetLufs{-40.0f, -5.0f};

// SetLatency: a node's own play-out delay bounds; 0 leaves a bound to the mixer.
inline constexpr Range kLatencyBoundMs{0.0f, 1000.0f};

// SetStrip: the keys of channel strips, buses and the master chain. Switches are 0 (off)
// or 1 (on); choices (eq type, comp detect, delay division, route) are numbered from 0.
inline constexpr std::uint32_t kEqBands = 4;
inline constexpr std::uint32_t kSends = 2;       //!< send 1 feeds fx1 (reverb), send 2 fx2 (delay)
inline constexpr std::uint32_t kGroupBuses = 8;  //!< bus1 .. bus8

inline constexpr Range kSwitch{0.0f, 1.0f};
inline constexpr Range kTrimDb{-24.0f, 24.0f};
inline constexpr Range kDelaySamples{0.0f, 4800.0f};  //!< the mixer's default longest channel delay
inline constexpr Range kDelayMs{0.0f, 100.0f};        //!< kDelaySamples at 48 kHz
inline constexpr Range kFilterFreqHz{10.0f, 20000.0f};
inline constexpr Range kFilterSlopeDb{12.0f, 24.0f};
inline constexpr Range kEqFreqHz{20.0f, 20000.0f};
inline constexpr Range kEqGainDb{-24.0f, 24.0f};
inline constexpr Range kEqQ{0.1f, 10.0f};
inline constexpr Range kEqType{0.0f, 2.0f};  //!< low-shelf, peak, high-shelf
inline constexpr Range kCompThresholdDb{-60.0f, 0.0f};
inline constexpr Range kCompRatio{1.0f, 20.0f};
inline constexpr Range kCompAttackMs{0.1f, 200.0f};
inline constexpr Range kCompReleaseMs{5.0f, 3000.0f};
inline constexpr Range kCompMakeupDb{-12.0f, 24.0f};
inline constexpr Range kCompKneeDb{0.0f, 24.0f};
inline constexpr Range kCompDetect{0.0f, 1.0f};  //!< peak, rms
inline constexpr Range kCompScHpfHz{0.0f, 1000.0f};
inline constexpr Range kGateThresholdDb{-90.0f, 0.0f};
inline constexpr Range kGateRangeDb{-90.0f, 0.0f};
inline constexpr Range kGateRatio{1.0f, 100.0f};
inline constexpr Range kGateAttackMs{0.05f, 50.0f};
inline constexpr Range kGateHoldMs{0.0f, 2000.0f};
inline constexpr Range kGateReleaseMs{5.0f, 4000.0f};
inline constexpr Range kLimiterCeilingDbtp{-20.0f, 0.0f};
inline constexpr Range kLimiterReleaseMs{1.0f, 1000.0f};
inline constexpr Range kRoute{0.0f, static_cast<float>(kGroupBuses)};  //!< 0: master, N: busN
inline constexpr Range kFaderDb{-144.0f, 10.0f};  //!< bus faders, sends, effect levels; -144 is off
inline constexpr Range kReverbDecayS{0.1f, 20.0f};
inline constexpr Range kReverbPredelayMs{0.0f, 250.0f};
inline constexpr Range kDampingHz{0.0f, 20000.0f};  //!< 0: no damping
inline constexpr Range kDelayBpm{20.0f, 300.0f};
inline constexpr Range kDelayDivision{0.0f, 8.0f};  //!< 1/1 1/2 1/4 1/8 1/16 1/4d 1/8d 1/4t 1/8t
inline constexpr Range kDelayFeedback{0.0f, 0.98f};

//! One key of a SetStrip section and its range.
struct StripKey {
  std::string_view name;
  Range range;
};

//! Where a section may be set.
enum StripPlace : unsigned { kOnChannel = 1u, kOnMaster = 2u, kOnBus = 4u };

//! One section of SetStrip ("eq", "comp", ...): where it applies and the keys it takes.
struct StripSection {
  std::string_view name;
  unsigned places;            //!< StripPlace bits
  std::uint32_t bands;        //!< eq, send: a number comes first (1 .. bands); 0: none
  std::string_view bare_key;  //!< the key a value given alone sets ("trim -3": db), or empty
  std::span<const StripKey> keys;
};

namespace strip_keys {
inline constexpr StripKey kTrim[] = {{"db", kTrimDb}};
inline constexpr StripKey kPhase[] = {{"on", kSwitch}};
inline constexpr StripKey kDelay[] = {{"samples", kDelaySamples}, {"ms", kDelayMs}};
inline constexpr StripKey kFilter[] = {{"freq", kFilterFreqHz}, {"slope", kFilterSlopeDb}, {"on", kSwitch}};
inline constexpr StripKey kEq[] = {
    {"freq", kEqFreqHz}, {"gain", kEqGainDb}, {"q", kEqQ}, {"type", kEqType}, {"on", kSwitch}};
inline constexpr StripKey kComp[] = {
    {"threshold", kCompThresholdDb}, {"ratio", kCompRatio},     {"attack", kCompAttackMs},
    {"release", kCompReleaseMs},     {"makeup", kCompMakeupDb}, {"knee", kCompKneeDb},
    {"detect", kCompDetect},         {"sc-hpf", kCompScHpfHz},  {"on", kSwitch}};
inline constexpr StripKey kGate[] = {{"threshold", kGateThresholdDb},
                                     {"range", kGateRangeDb},
                                     {"ratio", kGateRatio},
                                     {"attack", kGateAttackMs},
                                     {"hold", kGateHoldMs},
                                     {"release", kGateReleaseMs},
                                     {"on", kSwitch}};
inline constexpr StripKey kLimiter[] = {
    {"ceiling", kLimiterCeilingDbtp}, {"release", kLimiterReleaseMs}, {"on", kSwitch}};
inline constexpr StripKey kRouteTo[] = {{"to", kRoute}};
inline constexpr StripKey kSend[] = {{"level", kFaderDb}, {"pre", kSwitch}, {"on", kSwitch}};
inline constexpr StripKey kFader[] = {{"db", kFaderDb}};
inline constexpr StripKey kMute[] = {{"on", kSwitch}};
inline constexpr StripKey kReverb[] = {
    {"decay", kReverbDecayS}, {"predelay", kReverbPredelayMs}, {"damping", kDampingHz}, {"level", kFaderDb}};
inline constexpr StripKey kTempoDelay[] = {{"bpm", kDelayBpm},           {"division", kDelayDivision},
                                           {"feedback", kDelayFeedback}, {"damping", kDampingHz},
                                           {"level", kFaderDb},          {"pingpong", kSwitch}};
}  // namespace strip_keys

//! Every SetStrip section, in the order tlctl lists them. "delay" is twice: a channel's
//! (samples or ms) and fx2's tempo delay.
inline constexpr StripSection kStripSections[] = {
    {"trim", kOnChannel, 0, "db", strip_keys::kTrim},
    {"phase", kOnChannel, 0, "", strip_keys::kPhase},
    {"delay", kOnChannel, 0, "samples", strip_keys::kDelay},
    {"hpf", kOnChannel, 0, "freq", strip_keys::kFilter},
    {"lpf", kOnChannel, 0, "freq", strip_keys::kFilter},
    {"eq", kOnChannel | kOnMaster | kOnBus, kEqBands, "", strip_keys::kEq},
    {"comp", kOnChannel | kOnMaster | kOnBus, 0, "", strip_keys::kComp},
    {"gate", kOnChannel, 0, "", strip_keys::kGate},
    {"limiter", kOnMaster, 0, "", strip_keys::kLimiter},
    {"route", kOnChannel, 0, "to", strip_keys::kRouteTo},
    {"send", kOnChannel, kSends, "", strip_keys::kSend},
    {"fader", kOnBus, 0, "db", strip_keys::kFader},
    {"mute", kOnBus, 0, "", strip_keys::kMute},
    {"reverb", kOnBus, 0, "", strip_keys::kReverb},
    {"delay", kOnBus, 0, "", strip_keys::kTempoDelay},
};

}  // namespace tl::protocol

#!/usr/bin/env bash
# Checks that the modules depend only downward (DESIGN.md, issue 15):
#
#   common <- protocol <- {capture-node, mixer-node, control-cli}
#   common <- dsp      <- mastering <- mixer-node (tlctl take master); tl-master uses mixer-node
#
# A module may include the headers (tl/<name>/...) of the modules below it and
# its own, nothing else: no arrow back up, and control-cli speaks the protocol
# only. Run by deploy/test.sh beside the layout check; exits 1 naming every
# include that crosses a layer the wrong way.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# folder (or file) : its include prefix : the prefixes it may use besides its own
layers=(
  "common:common:"
  "protocol:protocol:common"
  "dsp:dsp:common"
  "capture-node:capture:common protocol"
  "mixer-node:mixer:common protocol dsp mastering"
  "control-cli:ctl:common protocol"
  "mastering/include:mastering:common dsp"
  "mastering/src:mastering:common dsp"
  # The program, not the library, mixes a take folder first (tl-render's engine).
  "mastering/main.cpp:mastering:common dsp protocol mixer"
  "mastering/cli:mastering:common dsp protocol mixer"
)

bad=0
for layer in "${layers[@]}"; do
  IFS=: read -r folder own allowed <<<"$layer"
  [[ -e $folder ]] || { echo "check-layers: no folder $folder" >&2; exit 1; }
  while IFS= read -r hit; do
    file=${hit%%:*}
    used=$(sed -E 's|.*#include "tl/([a-z_]+)/.*|\1|' <<<"${hit#*:}")
    [[ $used == "$own" ]] && continue
    [[ " $allowed " == *" $used "* ]] && continue
    echo "check-layers: $file includes tl/$used/ — $folder may use only ${allowed:-nothing} below it" >&2
    bad=1
  done < <(git ls-files -- "$folder" | grep -E '\.(h|hpp|cpp)$' | xargs -r grep -HE '^[[:space:]]*#[[:space:]]*include "tl/[a-z_]+/' || true)
done
if ((bad)); then
  echo "check-layers: a module depends upward (see above); move the shared part down a layer" >&2
  exit 1
fi
echo "check-layers: ${#layers[@]} modules depend only downward"

#!/usr/bin/env bash
# Checks that every C++ source of the project is laid out as .clang-format says
# (Google style, 110 columns); deploy/test.sh runs it before building.
#
#   deploy/check-format.sh          list the files that differ and exit 1 if any do
#   deploy/check-format.sh --fix    rewrite them in place
#
# Generated code (protobuf) lives in the build tree and is not checked.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
fix=0
case "${1:-}" in
  --fix) fix=1 ;;
  "") ;;
  -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
  *) echo "check-format: unknown option $1" >&2; exit 2 ;;
esac
command -v clang-format >/dev/null || { echo "check-format: clang-format is missing (deploy/install-deps.sh --dev)" >&2; exit 1; }

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cpp' '*.h')
else
  mapfile -t files < <(find . -path './build*' -prune -o \( -name '*.cpp' -o -name '*.h' \) -print | sed 's|^\./||' | sort)
fi
if [ "$fix" = 1 ]; then
  clang-format --style=file -i "${files[@]}"
  echo "check-format: ${#files[@]} files formatted"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  clang-format --style=file --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ "${#bad[@]}" -ne 0 ]; then
  echo "check-format: ${#bad[@]} of ${#files[@]} files differ from .clang-format (deploy/check-format.sh --fix):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files follow .clang-format"

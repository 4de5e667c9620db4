#!/usr/bin/env bash
# Lint the C tree: clang-format (always) and clang-tidy (with --tidy, needs a build dir with
# compile_commands.json). Exits non-zero on the first kind of problem found.
#   scripts/lint.sh                 formatting only (what ctest "lint_format" runs)
#   scripts/lint.sh --tidy BUILD    also clang-tidy over every C file in BUILD's database
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
mapfile -t files < <(git ls-files '*.c' '*.h' | grep -v -e node_modules -e '^tests/fuzz/corpus')
# One clang-format per file, as many at once as there are cores; a file that is not formatted
# prints its name.
mapfile -t bad < <(printf '%s\0' "${files[@]}" | xargs -0 -r -n 16 -P "$(nproc)" sh -c '
    for f in "$@"; do
        [ -f "$f" ] || continue
        clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || echo "$f"
    done' sh | sort)
if ((${#bad[@]})); then
    printf 'not formatted with .clang-format (run clang-format -i):\n' >&2
    printf '  %s\n' "${bad[@]}" >&2
    exit 1
fi
echo "format: ${#files[@]} files clean"
if [[ ${1:-} == --tidy ]]; then
    build=${2:?usage: lint.sh --tidy BUILD_DIR}
    mapfile -t cfiles < <(printf '%s\n' "${files[@]}" | grep '\.c$' | grep -v -e '/tests/' -e '^tests/')
    clang-tidy -p "$build" --quiet "${cfiles[@]}" 2>/dev/null | grep -E "warning:|error:" && exit 1
    echo "tidy: ${#cfiles[@]} files clean"
fi

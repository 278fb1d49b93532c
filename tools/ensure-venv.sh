#!/usr/bin/env bash
# Make ./.venv a small per-checkout virtualenv on top of a cached one that holds exactly requirements.lock.
#
# The dependencies live in a virtualenv cached per user under ~/.cache/transcript-foundry/venvs/<hash of requirements.lock and
# the Python version>, so a fresh clone (and CI) reuses it and only a dependency change rebuilds it
# (llama-cpp-python compiles from source: about 10 minutes on 2 cores). A build happens in the cache
# folder marked complete only at the end, so an interrupted build is started over, never reused.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "error: $PYTHON not found. Install Python 3.11 (or set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi
pyver=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$pyver" != "3.11" ]; then
  echo "error: $PYTHON is Python $pyver; this project needs Python 3.11 (set PYTHON=...)." >&2
  exit 1
fi

# llama.cpp's AMX kernels (picked by -march=native on Intel Sapphire Rapids and newer) segfault on the first
# decode of Q4_K models (ggml-org/llama.cpp#20824; seen here on a 2-core Xeon VM): compile them out on
# x86_64. AVX2/AVX-512 and the weight repacking stay.
llama_cflags=""
if [ "$(uname -m)" = "x86_64" ]; then llama_cflags="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"; fi

# Extra CMake arguments for llama.cpp, e.g. a CUDA build on a GPU node ("-DGGML_CUDA=on") or an AVX2-only
# build that behaves like another x86 CPU ("-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_AVX512=OFF"); part of the
# cache key, so each set of flags gets its own virtualenv.
llama_cmake_args="${TRANSCRIPTS_LLAMA_CMAKE_ARGS:-}"

cache_root="${TRANSCRIPTS_VENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/transcript-foundry/venvs}"
key=$( (cat requirements.lock; "$PYTHON" -c 'import sys; print(sys.version)'; uname -m; echo "$llama_cflags"; [ -z "$llama_cmake_args" ] || echo "$llama_cmake_args") \
  | sha256sum | cut -c1-16)
venv="$cache_root/$key"
# The llama-cpp-python wheel is cached on its own, keyed by its pin, the Python version, the machine and the
# compiler flags, so that a change elsewhere in requirements.lock rebuilds the virtualenv in a minute instead of
# recompiling llama.cpp (a hidden folder: the clean-up below keeps it).
wheel_key=$( (grep -i '^llama[-_]cpp[-_]python==' requirements.lock; "$PYTHON" -c 'import sys; print(sys.version)'; uname -m;
  echo "$llama_cflags"; [ -z "$llama_cmake_args" ] || echo "$llama_cmake_args") | sha256sum | cut -c1-16)
wheels="$cache_root/.llama-wheels/$wheel_key"

install_deps() {
  CMAKE_ARGS="$llama_cmake_args" bash tools/install.sh --python "$venv/bin/python" --phase deps \
    --wheel-dir "$wheels" orchestrator
}
build_llama_wheel_only() {
  # One compile per wheel key, also when two checkouts with different locks set up at once.
  (
    exec 8>"$cache_root/.lock-wheel-$wheel_key"
    flock 8
    CMAKE_ARGS="$llama_cmake_args" bash tools/install.sh --python "$venv/bin/python" --phase wheel \
      --wheel-dir "$wheels" orchestrator
  )
}

mkdir -p "$cache_root"
exec 9>"$cache_root/.lock-$key"
flock 9
if [ ! -f "$venv/.complete" ]; then
  echo ">> building the virtualenv for requirements.lock ($key) in $venv"
  echo ">> llama-cpp-python compiles from source once per set of flags (about 10 minutes on 2 cores); later lock changes reuse the wheel"
  rm -rf "$venv"   # a build without .complete was interrupted: start over
  "$PYTHON" -m venv "$venv"
  build_llama_wheel_only >/dev/null
  # tools/install.sh (the images' install path too): llama-cpp-python first, from source, with our compiler
  # flags and without pip's wheel cache (a cached wheel could have been built with other flags), as a wheel
  # kept in the virtualenv's folder (wheels/), so that a second environment of the same machine (an agent
  # virtualenv, the agent-only install test) needs no second compile; then the rest of the lock.
  # (The wheel lives in the wheel cache above; build_llama_wheel_only made sure it is there.)
  install_deps
  touch "$venv/.complete"
  # Keep the three most recently built virtualenvs.
  ls -1dt "$cache_root"/*/ 2>/dev/null | tail -n +4 | xargs -r rm -rf
fi
if [ "${1:-}" = "--llama-wheel" ]; then
  # The llama-cpp-python wheel this virtualenv was built from.
  build_llama_wheel_only >&2
  echo "$wheels"
  exit 0
fi

# The cached virtualenv holds dependencies only. Older set-ups installed a checkout into it in editable
# mode, which made every checkout's `transcripts` run whichever checkout installed last: undo that.
if "$venv/bin/python" -m pip show --quiet transcript-foundry >/dev/null 2>&1; then
  "$venv/bin/pip" uninstall --quiet --yes transcript-foundry >/dev/null
fi

# ./.venv belongs to this checkout: its site-packages adds the cached one (a .pth that calls site.addsitedir)
# and this checkout's root, and its bin/ holds the console scripts re-pointed at its own interpreter. So two
# clones side by side share the dependencies and each runs its own code.
here="$(pwd -P)"
site_rel="lib/python3.11/site-packages"
if [ -L .venv ] || { [ -e .venv ] && [ "$(cat .venv/.base 2>/dev/null)" != "$venv" ]; }; then rm -rf .venv; fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv --without-pip .venv
  echo "$venv" > .venv/.base
fi
printf 'import site; site.addsitedir(%s)\n' "'$venv/$site_rel'" > ".venv/$site_rel/_transcript_foundry_deps.pth"
printf '%s\n' "$here" > ".venv/$site_rel/_transcript_foundry_checkout.pth"
for script in "$venv"/bin/*; do
  name=$(basename "$script")
  case "$name" in python*|activate*|pip*|Activate.ps1|transcripts) continue ;; esac
  [ -f "$script" ] || continue
  if head -c 2 "$script" | grep -q '#!'; then
    sed "1s|^#!.*python.*$|#!$here/.venv/bin/python|" "$script" > ".venv/bin/$name.tmp"
    chmod +x ".venv/bin/$name.tmp" && mv ".venv/bin/$name.tmp" ".venv/bin/$name"
  else
    ln -sfn "$script" ".venv/bin/$name"
  fi
done
cat > .venv/bin/transcripts <<SCRIPT
#!$here/.venv/bin/python
import sys

from transcript_assets.cli.main import main

sys.exit(main())
SCRIPT
chmod +x .venv/bin/transcripts

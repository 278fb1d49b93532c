#!/usr/bin/env bash
# Build llama.cpp's own `llama-server` (the throughput peer of bench/embedded_throughput.py), `llama-bench` and
# `llama-batched-bench` (the decode ceiling) from the llama.cpp sources vendored in the same
# llama-cpp-python source distribution requirements.lock pins: the same llama.cpp revision, the same compiler
# flags as tools/install.sh (AMX kernels compiled out on x86_64), a native build. Benchmark-only: nothing in
# the normal set-up or in CI needs it.
#
#   tools/build-llama-server.sh            build (or find) and print the folder holding the binaries
#
# Cached under ~/.cache/transcript-foundry/llama-server/<key of the pin, the flags and the machine>/bin; a
# build is marked complete only at the end. A build whose system info reports AMX kernels is refused.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-.venv/bin/python}"
pin=$(grep -i '^llama[-_]cpp[-_]python==' requirements.lock)
cflags=""
if [ "$(uname -m)" = "x86_64" ]; then cflags="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"; fi
cmake_args="${TRANSCRIPTS_LLAMA_CMAKE_ARGS:-}"
key=$( (echo "$pin"; uname -m; echo "$cflags"; echo "$cmake_args") | sha256sum | cut -c1-16)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/transcript-foundry/llama-server/$key"

if [ ! -f "$cache/.complete" ]; then
  mkdir -p "$(dirname "$cache")"
  exec 9>"$cache.lock"
  flock 9
fi
if [ ! -f "$cache/.complete" ]; then
  echo ">> building llama-server from the sources vendored in $pin (CFLAGS='$cflags'; about 10 minutes on 2 cores)" >&2
  rm -rf "$cache" && mkdir -p "$cache/src"
  "$PYTHON" -m pip download --quiet --no-deps --no-binary :all: -d "$cache/src" "$pin" >&2
  tar -xzf "$cache"/src/llama_cpp_python-*.tar.gz -C "$cache/src"
  llama_src=$(echo "$cache"/src/llama_cpp_python-*/vendor/llama.cpp)
  # shellcheck disable=SC2086  # cmake_args holds several arguments
  cmake -S "$llama_src" -B "$cache/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_EXAMPLES=ON \
    -DLLAMA_BUILD_TESTS=OFF -DCMAKE_C_FLAGS="$cflags" -DCMAKE_CXX_FLAGS="$cflags" $cmake_args >"$cache/cmake.log" 2>&1 \
    || { tail -30 "$cache/cmake.log" >&2; exit 1; }
  cmake --build "$cache/build" -j "$(nproc)" --target llama-server llama-bench llama-batched-bench \
    >"$cache/build.log" 2>&1 || { tail -30 "$cache/build.log" >&2; exit 1; }
  mkdir -p "$cache/bin"
  cp "$cache"/build/bin/llama-server "$cache"/build/bin/llama-bench "$cache"/build/bin/llama-batched-bench "$cache/bin/"
  # The same refusal as tools/install.sh: a native build must not carry AMX kernels (they crash here). This
  # llama.cpp prints no system info from its tools, so look for the AMX buffer type, which is compiled only
  # with the AMX kernels; and check the binaries run (a short batched-bench on the embedded model).
  if nm "$cache/bin/llama-server" | grep -q "ggml_backend_amx_buffer_type"; then
    echo "error: llama-server was built with AMX kernels, which crash on this CPU; see tools/install.sh" >&2
    exit 1
  fi
  model=$("$PYTHON" -c 'from transcript_foundry.llm.embedded_model import ensure_embedded_model; print(ensure_embedded_model())')
  info=$("$cache/bin/llama-batched-bench" -m "$model" -c 256 -b 64 -ub 64 -npp 8 -ntg 2 -npl 1 -t 1 2>&1 || true)
  if ! grep -q "S_TG t/s" <<<"$info"; then
    echo "error: the freshly built llama-batched-bench did not run:" >&2; tail -20 <<<"$info" >&2; exit 1
  fi
  rm -rf "$cache/src" "$cache/build"
  touch "$cache/.complete"
fi
echo "$cache/bin"

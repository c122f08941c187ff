#!/usr/bin/env bash
# System packages the build and the tests need, installed only when missing (Debian/Ubuntu):
#   fonts-noto-cjk  a font with Chinese glyphs, for the labels of the site's figures
#   chromium        the browser the test suite drives (any of chromium, google-chrome
#                   on PATH, or $CHROMIUM, will do)
# Runs apt-get as root, or through sudo; otherwise says what to install and fails.
set -euo pipefail
need=()
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  need+=(fonts-noto-cjk fontconfig)
fi
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null \
  && ! command -v google-chrome >/dev/null && ! command -v google-chrome-stable >/dev/null; then
  need+=(chromium)
fi
((${#need[@]})) || exit 0
if ! command -v apt-get >/dev/null; then
  echo "system-deps: missing ${need[*]}; install them with your package manager" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo=(sudo)
else
  echo "system-deps: missing ${need[*]}; run: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
echo "system-deps: installing ${need[*]}" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}"

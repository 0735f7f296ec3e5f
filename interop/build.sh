#!/usr/bin/env bash
# Builds the quic-go 0.29 interop peers (interop/server, interop/client) into interop/bin/.
# Offline: GOPATH mode against the sources Debian installs under /usr/share/gocode
# (packages golang-go and golang-github-lucas-clemente-quic-go-dev). Safe to run repeatedly and
# concurrently: each binary is built under a unique name and renamed into place.
set -euo pipefail

here="$(cd "${BASH_SOURCE[0]%/*}" && pwd)"
gopath="${TSQUIC_GOPATH:-/usr/share/gocode}"
quicgo="$gopath/src/github.com/lucas-clemente/quic-go"

if ! command -v go >/dev/null 2>&1; then
  echo "interop/build.sh: the Go toolchain ('go') is not installed." >&2
  echo "  Install it with: apt-get install golang-go golang-github-lucas-clemente-quic-go-dev" >&2
  exit 1
fi
if [ ! -f "$quicgo/interface.go" ]; then
  echo "interop/build.sh: the quic-go sources are missing (looked in $quicgo)." >&2
  echo "  Install them with: apt-get install golang-github-lucas-clemente-quic-go-dev" >&2
  exit 1
fi

# A build cache is required; pick one when the environment has none (e.g. no HOME in CI containers).
if [ -z "${GOCACHE:-}" ]; then
  GOCACHE="$(go env GOCACHE 2>/dev/null || true)"
  if [ -z "$GOCACHE" ] || [ "$GOCACHE" = "off" ]; then
    GOCACHE="$here/bin/.gocache"
  fi
fi
export GOCACHE GO111MODULE=off GOPATH="$gopath" GOFLAGS="" GOPROXY=off

mkdir -p "$here/bin"
cd "$here"
for prog in server client h3server h3client; do
  tmp="bin/.$prog.$$"
  if ! go build -o "$tmp" "./$prog"; then
    rm -f "$tmp"
    echo "interop/build.sh: building interop/$prog failed ($(go version))." >&2
    exit 1
  fi
  mv -f "$tmp" "bin/$prog"
done
echo "interop/build.sh: built $here/bin/{server,client,h3server,h3client} ($(go version | cut -d' ' -f3))"

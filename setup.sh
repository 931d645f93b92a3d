#!/bin/sh
# Installs what is missing on a Debian machine, builds vdsoscope, and runs it
# on its own process.  Works as root, or through sudo as another user.
set -e
cd "$(dirname "$0")"

packages="build-essential autoconf automake libtool pkg-config libelf-dev libdw-dev
elfutils binutils gcc-multilib gdb python3 libunwind-dev util-linux
libdebuginfod-dev debuginfod iproute2 valgrind clang libclang-rt-14-dev golang-go"
missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "setup: installing$missing"
	if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
	$sudo apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
fi

[ -x configure ] || ./autogen.sh
[ -f Makefile ] || ./configure --quiet
make -j"$(nproc)" --no-print-directory > build.log 2>&1 || { cat build.log; exit 1; }
./tools/vdsoscope

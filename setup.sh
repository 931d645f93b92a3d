#!/bin/sh
# Installs what is missing on a Debian machine, builds vdsoscope, and runs it
# on its own process.  Works as root, or through sudo as another user.
set -e
cd "$(dirname "$0")"

packages="build-essential autoconf automake libtool pkg-config libelf-dev libdw-dev
elfutils binutils gcc-multilib gdb python3 libunwind-dev util-linux
libdebuginfod-dev debuginfod iproute2 valgrind clang libclang-rt-14-dev golang-go nodejs
libprotobuf-c-dev protobuf-c-compiler zlib1g-dev libiberty-dev g++"
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

# for tests/qemu (Debian's arm64 kernel under qemu, cross-built guests through
# clang, gdb-multiarch on the cores they write); those tests skip without
# them, so a failure here stops nothing.  The gcc-*-linux-gnu cross
# compilers are left out: they would remove gcc-multilib.
qemu_packages="qemu-system-arm binutils-aarch64-linux-gnu libc6-dev-arm64-cross
libgcc-12-dev-arm64-cross binutils-arm-linux-gnueabihf libc6-dev-armhf-cross libgcc-12-dev-armhf-cross
gdb-multiarch"
missing=""
for p in $qemu_packages; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
	# shellcheck disable=SC2086
	if $sudo apt-get install -s --no-install-recommends $missing 2>/dev/null | grep -q '^Remv'; then
		echo "setup: not installing$missing: it would remove packages; the qemu tests will skip"
	else
		echo "setup: installing$missing"
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing ||
			echo "setup: the qemu tests will skip"
	fi
fi

# Breakpad's minidump_stackwalk and dump_syms for tests/run-breakpad.sh: the
# npm package `minidump` ships them built for Linux x86_64 (its install
# script, which would build them, is skipped); without them that test skips.
npm_dir=${VDSOSCOPE_NPM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vdsoscope-npm}
if [ "$(uname -m)" = x86_64 ] && command -v npm > /dev/null &&
   [ ! -x "$npm_dir/node_modules/minidump/bin/linux-x64/minidump_stackwalk" ]; then
	echo "setup: installing npm's minidump package into $npm_dir"
	mkdir -p "$npm_dir"
	npm install --ignore-scripts --no-audit --no-fund --prefix "$npm_dir" minidump@0.26.0 \
		> "$npm_dir/install.log" 2>&1 ||
		echo "setup: npm install minidump failed (see $npm_dir/install.log); run-breakpad.sh will skip"
elif ! command -v npm > /dev/null; then
	echo "setup: no npm: run-breakpad.sh will skip"
fi

[ -x configure ] || ./autogen.sh
[ -f Makefile ] || ./configure --quiet
make -j"$(nproc)" --no-print-directory > build.log 2>&1 || { cat build.log; exit 1; }
./tools/vdsoscope

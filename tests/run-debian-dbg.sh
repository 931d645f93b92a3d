#!/bin/bash
# Real unstripped vDSO images (vdso64.so, vdso32.so, vdsox32.so; arm64's
# vdso.so and vdso32.so) from Debian's linux-image-*-dbg: symbols and CFI
# against readelf, every local function's name and file:line against readelf
# and eu-addr2line; arm64's running images found their debug images, by
# content where the build-id differs.
#
# Optional: the package is an 860 MB download.  Images are taken from
# $VDSOSCOPE_DBG_DIR, or /usr/lib/debug/lib/modules/*/vdso, or, with
# VDSOSCOPE_TEST_DOWNLOAD=1, downloaded once into
# ${XDG_CACHE_HOME:-~/.cache}/vdsoscope-test.
. "${top_srcdir:-.}/tests/lib.sh"

dir=${VDSOSCOPE_DBG_DIR:-}
if [ -z "$dir" ]; then
	dir=$(ls -d /usr/lib/debug/lib/modules/*/vdso 2>/dev/null | head -n1)
fi
if [ -z "$dir" ] && [ "${VDSOSCOPE_TEST_DOWNLOAD:-0}" = 1 ]; then
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/vdsoscope-test
	dir=$(ls -d "$cache"/usr/lib/debug/lib/modules/*/vdso 2>/dev/null | head -n1)
	if [ -z "$dir" ]; then
		pkg=$(apt-cache depends linux-image-amd64-dbg 2>/dev/null | awk '/Depends:/ { print $2; exit }')
		[ -n "$pkg" ] || skip "apt knows no linux-image-amd64-dbg (run apt-get update)"
		mkdir -p "$cache"
		( cd "$cache" && apt-get download "$pkg" > /dev/null 2>&1 ) || skip "could not download $pkg"
		dpkg-deb --fsys-tarfile "$cache"/"$pkg"_*.deb |
			tar -x -C "$cache" --wildcards './usr/lib/debug/lib/modules/*/vdso/*' ||
			skip "could not extract the vDSO images from $pkg"
		rm -f "$cache"/"$pkg"_*.deb
		dir=$(ls -d "$cache"/usr/lib/debug/lib/modules/*/vdso 2>/dev/null | head -n1)
	fi
fi
arm64=${VDSOSCOPE_ARM64_DBG_DIR:-$(ls -d "${XDG_CACHE_HOME:-$HOME/.cache}"/vdsoscope-test/arm64/usr/lib/debug/lib/modules/*/vdso 2> /dev/null | head -n1)}
{ [ -n "$dir" ] && [ -d "$dir" ]; } || { [ -n "$arm64" ] && [ -d "$arm64" ]; } ||
	skip "no Debian vDSO debug images (install linux-image-*-dbg, set VDSOSCOPE_DBG_DIR, or VDSOSCOPE_TEST_DOWNLOAD=1)"
command -v eu-addr2line > /dev/null || skip "eu-addr2line (elfutils) is not installed"

# arm64's package (linux-image-*-cloud-arm64-dbg, in $VDSOSCOPE_ARM64_DBG_DIR):
# vdso.so (aarch64) and vdso32.so (the compat vDSO)
for img in "$dir"/vdso64.so "$dir"/vdso32.so "$dir"/vdsox32.so "$arm64"/vdso.so "$arm64"/vdso32.so; do
	[ -f "$img" ] || continue
	name=$(basename "$(dirname "$(dirname "$img")")")-$(basename "$img")
	"$VDSOSCOPE" symbols --json --file "$img" > "$tmp/$name.sym"
	expect_ok "$name: symbols = readelf --dyn-syms" $CHECK symbols "$img" "$tmp/$name.sym" 0
	"$VDSOSCOPE" cfi --json --file "$img" > "$tmp/$name.cfi"
	if readelf --debug-dump=frames "$img" 2> /dev/null | grep -q ' FDE '; then
		expect_ok "$name: CFI rows = readelf frames-interp" $CHECK cfi "$img" "$tmp/$name.cfi" 0
	else
		echo "note: $name has no CFI (arm64's vDSO since 5.8): rows come from its instructions"
	fi
	expect_ok "$name: local functions and file:line = readelf, eu-addr2line" $CHECK locals "$img" "$VDSOSCOPE"
done

# The running images of Debian's arm64 kernel (recorded in its guest by
# run-qemu-arm64.sh) with the debug images of the same kernel: the aarch64
# vDSO was relinked after its debug image was written (another build-id,
# the same loadable bytes), the compat one was not.
run=$(ls -d "${VDSOSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vdsoscope}"/arm64-results/*/nopac 2> /dev/null | head -n1)
if [ -n "$arm64" ] && [ -f "$arm64/vdso.so" ] && [ -n "$run" ] && [ -f "$run/vdso64.so" ] &&
   [ "$(cat "$run/kernel")" = "$(basename "$(dirname "$arm64")")" ] &&
   # the same build of the kernel: its compat vDSO, not relinked, has the
   # debug image's build-id
   [ "$(readelf -n "$run/vdso32.so" | grep 'Build ID')" = "$(readelf -n "$arm64/vdso32.so" | grep 'Build ID')" ]; then
	for pair in "vdso64.so vdso.so content" "vdso32.so vdso32.so build-id"; do
		set -- $pair
		m=$("$VDSOSCOPE" info --json --file "$run/$1" --debug-dir "$arm64" |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["debug_match"])')
		[ "$m" = "$3" ] && pass "arm64 $1: the debug image $2 is found and matched by $3" ||
			fail "arm64 $1: debug_match '$m', want $3"
		expect_ok "arm64 $1 with $2: every function's name and file:line = eu-addr2line" \
			$CHECK locals "$arm64/$2" "$VDSOSCOPE" "$run/$1"
	done
else
	echo "note: no arm64 debug images with the running images of the same kernel build (run-qemu-arm64.sh's"
	echo "      recording and linux-image-*-cloud-arm64-dbg in \$VDSOSCOPE_ARM64_DBG_DIR): not checked"
fi
finish

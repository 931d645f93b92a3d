#!/bin/bash
# Real unstripped vDSO images (vdso64.so, vdso32.so, vdsox32.so) from Debian's
# linux-image-*-dbg: symbols and CFI against readelf, every local function's
# name and file:line against readelf and eu-addr2line.
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
[ -n "$dir" ] && [ -d "$dir" ] ||
	skip "no Debian vDSO debug images (install linux-image-*-dbg, set VDSOSCOPE_DBG_DIR, or VDSOSCOPE_TEST_DOWNLOAD=1)"
command -v eu-addr2line > /dev/null || skip "eu-addr2line (elfutils) is not installed"

for img in "$dir"/vdso64.so "$dir"/vdso32.so "$dir"/vdsox32.so; do
	[ -f "$img" ] || continue
	name=$(basename "$img")
	"$VDSOSCOPE" symbols --json --file "$img" > "$tmp/$name.sym"
	expect_ok "$name: symbols = readelf --dyn-syms" $CHECK symbols "$img" "$tmp/$name.sym" 0
	"$VDSOSCOPE" cfi --json --file "$img" > "$tmp/$name.cfi"
	expect_ok "$name: CFI rows = readelf frames-interp" $CHECK cfi "$img" "$tmp/$name.cfi" 0
	expect_ok "$name: local functions and file:line = readelf, eu-addr2line" $CHECK locals "$img" "$VDSOSCOPE"
done
finish

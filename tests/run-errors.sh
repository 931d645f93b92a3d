#!/bin/bash
# Damaged and missing inputs: images without (or with lying) section
# headers still read the same; everything else gets its named error.
. "${top_srcdir:-.}/tests/lib.sh"

same_output() {
	local what=$1 a=$2 b=$3
	if [ -s "$a" ] && cmp -s "$a" "$b"; then pass "$what"; else fail "$what"; diff "$a" "$b" | head -20; fi
}

"$VDSOSCOPE" extract -o "$tmp/v64"
images="v64"
if [ -x "$T32" ]; then
	start_target t32 "$T32"
	"$VDSOSCOPE" extract --pid "$t32_pid" -o "$tmp/v32"
	images="v64 v32"
fi
for v in $images; do
	$CHECK strip-shdrs "$tmp/$v" "$tmp/$v.noshdr"
	$CHECK garble-shdrs "$tmp/$v" "$tmp/$v.badshdr"
	for cmd in symbols cfi; do
		"$VDSOSCOPE" $cmd --json --file "$tmp/$v" > "$tmp/$v.$cmd"
		"$VDSOSCOPE" $cmd --json --file "$tmp/$v.noshdr" > "$tmp/$v.noshdr.$cmd"
		"$VDSOSCOPE" $cmd --json --file "$tmp/$v.badshdr" > "$tmp/$v.badshdr.$cmd"
		same_output "$v without section headers: same $cmd" "$tmp/$v.$cmd" "$tmp/$v.noshdr.$cmd"
		same_output "$v with lying section headers: same $cmd" "$tmp/$v.$cmd" "$tmp/$v.badshdr.$cmd"
	done
done
readelf -S "$tmp/v64.noshdr" 2>&1 | grep -q 'no sections' && pass "readelf sees no sections in the stripped copy" ||
	fail "the stripped copy still has sections"

head -c 300 "$tmp/v64" > "$tmp/trunc"
expect_error "truncated image" 1 "truncated|past the end" "$VDSOSCOPE" --file "$tmp/trunc"
head -c 40 "$tmp/v64" > "$tmp/trunc40"
expect_error "image cut inside the ELF header" 1 "truncated" "$VDSOSCOPE" --file "$tmp/trunc40"
printf 'hello, world\n' > "$tmp/text"
expect_error "not an ELF file" 1 "not an ELF image" "$VDSOSCOPE" --file "$tmp/text"
: > "$tmp/empty"
expect_error "empty file" 1 "not an ELF image" "$VDSOSCOPE" --file "$tmp/empty"
expect_error "missing file" 1 "No such file" "$VDSOSCOPE" --file "$tmp/nonexistent"
expect_error "directory as image" 1 "not a regular file" "$VDSOSCOPE" --file "$tmp"
# a FIFO nobody writes: refused at once (timeout turns a hang into exit 124)
mkfifo "$tmp/fifo"
expect_error "FIFO as image" 1 "not a regular file" timeout 20 "$VDSOSCOPE" --file "$tmp/fifo"
expect_error "FIFO as core" 1 "not a regular file" timeout 20 "$VDSOSCOPE" --core "$tmp/fifo"

true & dead=$!; wait $dead
expect_error "pid that does not exist" 1 "pid $dead: no such process" "$VDSOSCOPE" --pid "$dead"

start_target t64 "$T64"
if gcore -o "$tmp/g64" "$t64_pid" > /dev/null 2>&1; then
	core=$tmp/g64.$t64_pid
	expect_error "core file given as --file" 1 "is a core file" "$VDSOSCOPE" --file "$core"
	$CHECK drop-vdso-load "$core" "$tmp/novdso.core" > /dev/null
	expect_error "core without the vDSO segment" 1 "no PT_LOAD holds the vDSO" \
		"$VDSOSCOPE" --core "$tmp/novdso.core"
	$CHECK cut-in-vdso "$core" "$tmp/cut.core" > /dev/null
	expect_error "core ending inside the vDSO segment" 1 "file ends inside the vDSO segment" \
		"$VDSOSCOPE" --core "$tmp/cut.core"
	head -c 100 "$core" > "$tmp/head.core"
	expect_error "core cut inside the program headers" 1 "truncated|past the end" \
		"$VDSOSCOPE" --core "$tmp/head.core"
	expect_error "image given as --core" 1 "not ET_CORE" "$VDSOSCOPE" --core "$tmp/v64"
else
	fail "gcore of pid $t64_pid"
fi

if [ -x "$T32" ]; then
	if gcore -o "$tmp/g32" "$t32_pid" > /dev/null 2>&1; then
		"$VDSOSCOPE" info --json --core "$tmp/g32.$t32_pid" > "$tmp/core32.json"
		if python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(not (j["class"]==32 and j["machine"]=="i386" and j["soname"]=="linux-gate.so.1" and j["load_address"]==sys.argv[2]))' "$tmp/core32.json" "$t32_base"; then
			pass "32-bit core: i386 linux-gate.so.1 at $t32_base"
		else
			fail "32-bit core: $(cat "$tmp/core32.json")"
		fi
	else
		fail "gcore of the 32-bit pid $t32_pid"
	fi
fi

# another user's process: the error says what was refused
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null &&
   setpriv --reuid=65534 --regid=65534 --clear-groups "$VDSOSCOPE" --version > /dev/null 2>&1; then
	expect_error "pid of another user" 1 "pid $t64_pid.*Permission denied|Operation not permitted" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$VDSOSCOPE" --pid "$t64_pid"
else
	echo "permission check skipped: needs root, setpriv, and a build directory user nobody can run from"
fi
stop_target t64
[ -x "$T32" ] && stop_target t32
finish

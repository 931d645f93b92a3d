#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Compressed sections (SHF_COMPRESSED from gcc -gz and objcopy, legacy
# .zdebug_* from -gz=zlib-gnu) read as their plain twins: a debug file's
# names, file:line and CFI (against eu-addr2line and the uncompressed file);
# a section claiming more than it can hold is dropped, not inflated; an image
# whose CFI is only a compressed .debug_frame serves a core; profile
# of a -gz build whose CFI is only in .debug_frame, and of a Go program,
# unwinds as the decompressed copy does (the same record replayed over both)
# and as gdb's bt.
. "${top_srcdir:-.}/tests/lib.sh"
PCHECK="python3 $top_srcdir/tests/profile-check.py"

command -v eu-addr2line > /dev/null || skip "eu-addr2line (elfutils) is not installed"
command -v objcopy > /dev/null || skip "objcopy (binutils) is not installed"

check() { local what=$1; shift; checked first "$what" $PCHECK "$@"; }

# ---- a debug file with compressed sections ---------------------------------
cat > "$tmp/fake.c" <<'C'
static int __attribute__((noinline)) helper(int x)
{
	return x * 3 + 1;
}

int fake_gettime(int x)
{
	return helper(x) + 2;
}
C
# CFI only in .debug_frame, which only the debug file has
cc -shared -fPIC -O1 -g -fno-asynchronous-unwind-tables -Wl,--build-id \
	-Wl,-soname,linux-fake.so.1 "$tmp/fake.c" -o "$tmp/full.so" ||
	skip "no C compiler to make a test image"
strip -o "$tmp/stripped.so" "$tmp/full.so"
objcopy --compress-debug-sections=zlib-gabi "$tmp/full.so" "$tmp/gabi.so"
objcopy --compress-debug-sections=zlib-gnu "$tmp/full.so" "$tmp/gnu.so"
readelf -S "$tmp/gabi.so" | grep -A1 ' \.debug_frame' | grep -q ' C ' ||
	fail "objcopy did not compress .debug_frame"
readelf -S "$tmp/gnu.so" | grep -q ' \.zdebug_frame' ||
	fail "objcopy made no .zdebug_frame"
helper=$(readelf -Ws "$tmp/full.so" | awk '$8 == "helper" { print "0x" $2 }')
[ -n "$helper" ] || fail "readelf finds no helper in the test image"
a1=$(printf '0x%x' $((helper + 1)))
want_fn=$(eu-addr2line -f -e "$tmp/full.so" "$a1" | sed -n 1p)
want_line=$(eu-addr2line -e "$tmp/full.so" "$a1" | sed 's/:\([0-9]*\):[0-9]*$/:\1/')
"$VDSOSCOPE" cfi --file "$tmp/stripped.so" --debug-file "$tmp/full.so" > "$tmp/cfi.plain"
grep -q 'FDE .* helper' "$tmp/cfi.plain" || fail "no CFI from the plain debug file"

for kind in gabi gnu; do
	dbg=$tmp/$kind.so
	for how in "debug file" "image is its own debug file"; do
		if [ "$how" = "debug file" ]; then src=(--file "$tmp/stripped.so" --debug-file "$dbg")
		else src=(--file "$dbg"); fi
		got=$("$VDSOSCOPE" symbolize "${src[@]}" "$a1" 2>&1)
		if [ "$(echo "$got" | awk '{ sub(/\+.*/, "", $2); print $2 }')" = "$want_fn" ] &&
		   [ "$(echo "$got" | awk '{ print $3 }')" = "$want_line" ]; then
			pass "$kind, $how: $got"
		else
			fail "$kind, $how: vdsoscope '$got', eu-addr2line '$want_fn $want_line'"
		fi
		"$VDSOSCOPE" cfi "${src[@]}" > "$tmp/cfi.$kind" 2>&1
		if cmp -s "$tmp/cfi.plain" "$tmp/cfi.$kind"; then
			pass "$kind, $how: the CFI rows of the plain .debug_frame"
		else
			fail "$kind, $how: CFI differs"; diff -u "$tmp/cfi.plain" "$tmp/cfi.$kind" | sed 's/^/  | /'
		fi
	done
	# the image's bytes are left as they were read
	"$VDSOSCOPE" extract -o "$tmp/x.so" --file "$dbg"
	if cmp -s "$tmp/x.so" "$dbg"; then pass "$kind: extract gives the file's bytes"
	else fail "$kind: extract changed the image's bytes"; fi
done

# section SECTION of FILE claims SIZE inflated bytes: to OUT
claim() {
	python3 - "$@" <<'PY'
import struct, sys
src, dst, name, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4], 0)
b = bytearray(open(src, "rb").read())
shoff, = struct.unpack_from("<Q", b, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from("<HHH", b, 0x3a)
sh = lambda i: struct.unpack_from("<IIQQQQIIQQ", b, shoff + i * shentsize)
names = sh(shstrndx)[4]
for i in range(shnum):
    s = sh(i)
    if b[names + s[0]:b.index(0, names + s[0])].decode() == name:
        if name.startswith(".zdebug"):
            struct.pack_into(">Q", b, s[4] + 4, size)   # "ZLIB", big-endian size
        else:
            struct.pack_into("<Q", b, s[4] + 8, size)   # Elf64_Chdr.ch_size
        open(dst, "wb").write(b)
        sys.exit(0)
sys.exit("no section " + name)
PY
}
for bad in "gabi .debug_frame 0x10000000000 over the limit" \
	   "gabi .debug_frame 100000 more than its bytes can hold" \
	   "gabi .debug_frame 1000 not what it inflates to" \
	   "gnu .zdebug_frame 0x7fffffffffffffff over the limit" \
	   "gnu .zdebug_line 0x10000000000 over the limit"; do
	set -- $bad
	claim "$tmp/$1.so" "$tmp/bad.so" "$2" "$3" || { fail "cannot patch $2"; continue; }
	what="$1 $2 claiming $3 bytes (${*:4})"
	if ! got=$("$VDSOSCOPE" symbolize --file "$tmp/stripped.so" --debug-file "$tmp/bad.so" "$a1" 2>&1); then
		fail "$what: $got"
	elif [ "$(echo "$got" | awk '{ sub(/\+.*/, "", $2); print $2 }')" != "$want_fn" ]; then
		fail "$what: names lost: $got"
	elif [ "$2" = .zdebug_line ] && echo "$got" | grep -q 'fake\.c'; then
		fail "$what: a line from the dropped section: $got"
	elif [ "$2" != .zdebug_line ] && "$VDSOSCOPE" cfi --file "$tmp/stripped.so" \
		--debug-file "$tmp/bad.so" 2>&1 | grep -q FDE; then
		fail "$what: rows from the dropped section"
	else
		pass "$what: dropped, the rest read: $got"
	fi
done

# ---- an image whose CFI is only a compressed .debug_frame --------------------
# for a core without its vDSO segment: both engines unwind as with the plain
# copy (libdwfl reads the image itself, libunwind the library's rows)
if "$VDSOSCOPE" backtrace --help > /dev/null 2>&1 && command -v gcore > /dev/null; then
	start_target thr "$T64" threads
	"$top_builddir/tests/vdso-stop" "$thr_pid" > /dev/null &&
		gcore -o "$tmp/g" "$thr_pid" > /dev/null 2>&1 || fail "gcore"
	kill -9 "$thr_pid"; wait "$thr_pid" 2> /dev/null
	core=$tmp/g.$thr_pid
	$CHECK drop-vdso-load "$core" "$tmp/novdso.core" > /dev/null
	"$VDSOSCOPE" extract --core "$core" -o "$tmp/vdso.so"
	python3 "$top_srcdir/tests/elfmut.py" debug-frame-only "$tmp/vdso.so" "$tmp/dbgf.so"
	objcopy --compress-debug-sections "$tmp/dbgf.so" "$tmp/dbgfz.so"
	for engine in libunwind libdwfl; do
		for f in dbgf dbgfz; do
			"$VDSOSCOPE" backtrace --core "$tmp/novdso.core" --image "$tmp/$f.so" --engine $engine 2>&1 |
				sed 's/dbgfz*\.so/IMAGE/' > "$tmp/bt.$f"
		done
		if grep -q 'spin_getres' "$tmp/bt.dbgf" && cmp -s "$tmp/bt.dbgf" "$tmp/bt.dbgfz"; then
			pass "backtrace --engine $engine, compressed .debug_frame only: the plain copy's $(grep -c '^#' "$tmp/bt.dbgf") frames"
		else
			fail "backtrace --engine $engine, compressed .debug_frame only"
			diff -u "$tmp/bt.dbgf" "$tmp/bt.dbgfz" | sed 's/^/  | /'
		fi
	done
else
	echo "note: no backtrace or gcore here: a compressed image for a core not checked"
fi

# ---- profile of a -gz build --------------------------------------------------
if ! "$VDSOSCOPE" profile --help > /dev/null 2>&1; then
	echo "note: built without the unwind library (no profile)"
	finish; exit
fi
if ! "$VDSOSCOPE" profile --duration 0.2 -- "$T64" profile-workload 1 > /dev/null 2> "$tmp/probe"; then
	if grep -Eq "not permitted|cannot sample user registers" "$tmp/probe"; then
		echo "note: no profile here: $(cat "$tmp/probe")"
		finish; exit
	fi
fi

# profile_same NAME PLAIN -- COMMAND...: a record of COMMAND (whose program
# is $tmp/NAME) replayed over it and over PLAIN, its decompressed copy, in
# $tmp/NAME.z.json and $tmp/NAME.plain.json
profile_same() {
	local name=$1 plain=$2; shift 3
	cp "$tmp/$name" "$tmp/$name.keep"
	if ! "$VDSOSCOPE" profile --json --frequency 2000 --record "$tmp/$name.rec" -- "$@" \
		> "$tmp/$name.live.json" 2> "$tmp/err"; then
		fail "$name: profile"; sed 's/^/  | /' "$tmp/err"; return 1
	fi
	pass "$name: profile: $(grep '^samples' "$tmp/err")"
	"$VDSOSCOPE" profile --json --replay "$tmp/$name.rec" > "$tmp/$name.z.json" 2> "$tmp/err" ||
		fail "$name: replay: $(cat "$tmp/err")"
	cp "$plain" "$tmp/$name"
	"$VDSOSCOPE" profile --json --replay "$tmp/$name.rec" > "$tmp/$name.plain.json" 2> "$tmp/err" ||
		fail "$name: replay over the decompressed copy: $(cat "$tmp/err")"
	cp "$tmp/$name.keep" "$tmp/$name"
	check "$name: the same stacks as over the decompressed copy" same \
		"$tmp/$name.z.json" "$tmp/$name.plain.json"
}

cflags="-I$top_builddir -I$top_srcdir/lib -O1 -g -fno-asynchronous-unwind-tables"
srcs="$top_srcdir/tests/vdso-target.c $top_srcdir/lib/vdso-elf.c"
for gz in zlib zlib-gnu; do
	name=target-$gz
	if ! cc $cflags -gz=$gz -o "$tmp/$name" $srcs 2> "$tmp/err"; then
		echo "note: cc -gz=$gz: $(head -n1 "$tmp/err")"
		continue
	fi
	if [ $gz = zlib ]; then
		readelf -S "$tmp/$name" | grep -A1 ' \.debug_frame' | grep -q ' C ' ||
			{ fail "cc -gz made no compressed .debug_frame"; continue; }
	elif ! readelf -S "$tmp/$name" | grep -q ' \.zdebug_frame'; then
		echo "note: cc -gz=zlib-gnu made no .zdebug_frame here"
		continue
	fi
	objcopy --decompress-debug-sections "$tmp/$name" "$tmp/$name.plain"
	profile_same "$name" "$tmp/$name.plain" -- "$tmp/$name" profile-workload 2 || continue
	check "$name: vDSO samples unwind into the known chains" chains "$tmp/$name.live.json" 200
	timeout 120 gdb -batch -nx -ex "break inner2" -ex run -ex delete \
		-ex 'break __vdso_clock_gettime' -ex continue -ex bt \
		--args "$tmp/$name" profile-workload 1 > "$tmp/gdb" 2>&1 < /dev/null
	check "$name: the inner2 chain agrees with gdb's bt" gdb "$tmp/$name.live.json" "$tmp/gdb"
done

# ---- profile of a Go program ---------------------------------------------------
if ! command -v go > /dev/null; then
	echo "note: no Go toolchain (golang-go); Go's compressed .debug_frame not checked"
	finish; exit
fi
if ! build_go "$tmp/goprog"; then
	fail "go build: $(cat "$tmp/go-build.log")"
	finish; exit
fi
if readelf -S "$tmp/goprog" | grep -A1 ' \.debug_frame' | grep -q ' C '; then
	objcopy --decompress-debug-sections "$tmp/goprog" "$tmp/goprog.plain"
	profile_same goprog "$tmp/goprog.plain" -- "$tmp/goprog" 2
	check "goprog: vDSO samples unwind into the Go program" through "$tmp/goprog.live.json" goprog 200
else
	echo "note: this Go toolchain does not compress .debug_frame"
fi
finish

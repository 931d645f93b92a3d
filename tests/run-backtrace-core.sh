#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# backtrace on cores as they come from other machines, against eu-stack:
#  - a static program (no .eh_frame_hdr; threads in pthread_join, in a signal
#    handler and in the vDSO), x86_64 and i386, its core written by gcore and
#    the executable moved away: with -e, --sysroot or --debug-dir every
#    engine's frames equal eu-stack -e's, names included; without them each
#    stack is a prefix of the truth that ends saying which file was not found;
#  - the same core with AT_SYSINFO_EHDR set to 0: no vDSO, still unwound;
#  - elfutils' real cores (../shared/data/elfutils-cores): nothing invented
#    past the frames eu-stack finds without the executable.
. "${top_srcdir:-.}/tests/lib.sh"
BTCMP="python3 $top_srcdir/tests/bt-compare.py"
CC=${CC:-gcc}

"$VDSOSCOPE" backtrace --help > /dev/null 2>&1 || skip "built without libunwind (no backtrace)"
command -v eu-stack > /dev/null || skip "eu-stack (elfutils) is not installed"
command -v gcore > /dev/null || skip "gcore (gdb) is not installed"

# set_auxv_zero CORE OUT: OUT is CORE with AT_SYSINFO_EHDR's value 0
set_auxv_zero() {
	python3 - "$1" "$2" <<'EOF'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
is64 = data[4] == 2
w, fmt = (8, "<Q") if is64 else (4, "<I")
phoff = struct.unpack_from("<Q" if is64 else "<I", data, 32 if is64 else 28)[0]
phent, phnum = struct.unpack_from("<HH", data, 54 if is64 else 42)
done = 0
for i in range(phnum):
    p = phoff + i * phent
    if struct.unpack_from("<I", data, p)[0] != 4:  # PT_NOTE
        continue
    off = struct.unpack_from(fmt, data, p + (8 if is64 else 4))[0]
    size = struct.unpack_from(fmt, data, p + (32 if is64 else 16))[0]
    q = off
    while q + 12 <= off + size:
        namesz, descsz, typ = struct.unpack_from("<III", data, q)
        desc = q + 12 + ((namesz + 3) & ~3)
        if typ == 6:  # NT_AUXV
            for k in range(desc, desc + descsz, 2 * w):
                if struct.unpack_from(fmt, data, k)[0] == 33:  # AT_SYSINFO_EHDR
                    struct.pack_into(fmt, data, k + w, 0)
                    done += 1
        q = desc + ((descsz + 3) & ~3)
open(sys.argv[2], "wb").write(data)
sys.exit(0 if done else 1)
EOF
}

# end_of JSON: the end reasons of every thread, one a line
end_of() {
	python3 -c 'import json,sys; [print(t["end"]) for t in json.load(open(sys.argv[1]))["threads"]]' "$1"
}

one_static() {
	bits=$1
	exe=$tmp/static-threads$bits
	if ! $CC -m$bits -O1 -g -static -pthread -Wl,--no-eh-frame-hdr -o "$exe" \
	     "$top_srcdir/tests/static-threads.c" 2> "$tmp/cc.err"; then
		echo "note: no static -m$bits build here: $(head -n1 "$tmp/cc.err")"
		return
	fi
	if readelf -lW "$exe" | grep -q GNU_EH_FRAME; then
		fail "$bits: the static program has an .eh_frame_hdr"
		return
	fi
	mkfifo "$tmp/ready$bits"
	"$exe" vdso > "$tmp/ready$bits" &
	pid=$!
	target_pids="$target_pids $pid"
	# "ready" once its threads are in the vDSO loop and in the handler
	read -r _ < "$tmp/ready$bits"
	gcore -o "$tmp/core$bits" "$pid" > /dev/null 2>&1
	kill -9 "$pid"
	core=$tmp/core$bits.$pid
	[ -f "$core" ] || { fail "$bits: gcore wrote no core"; return; }
	mkdir -p "$tmp/moved$bits"
	mv "$exe" "$tmp/moved$bits/"
	moved=$tmp/moved$bits/static-threads$bits
	eu-stack --core "$core" -e "$moved" > "$tmp/eu$bits" 2>&1
	if [ "$(grep -c '^TID' "$tmp/eu$bits")" != 3 ]; then
		fail "$bits: eu-stack -e does not show 3 threads"; sed 's/^/  | /' "$tmp/eu$bits"
		return
	fi

	# eu-stack stops in the i386 vDSO's functions without CFI; the
	# default engine unwinds them (run-backtrace32.sh checks them with gdb)
	cmp="--eu-stack"
	[ "$bits" = 32 ] && cmp="--eu-least"
	engines="core libunwind libdwfl"
	[ "$bits" = 32 ] && engines="core libdwfl"
	for engine in $engines; do
		if "$VDSOSCOPE" backtrace --core "$core" -e "$moved" --engine $engine --json \
			> "$tmp/with.json" 2> "$tmp/err" &&
		   $BTCMP check "$tmp/with.json" $cmp "$tmp/eu$bits" --all-names --main \
			> "$tmp/cmp" 2>&1; then
			pass "$bits: static core, -e, engine $engine = eu-stack -e: $(tail -n1 "$tmp/cmp")"
		else
			fail "$bits: static core, -e, engine $engine differs from eu-stack -e"
			sed 's/^/  | /' "$tmp/err" "$tmp/cmp"
		fi
	done
	# without the executable: a prefix of the truth, and the reason
	"$VDSOSCOPE" backtrace --core "$core" -e "$moved" > "$tmp/truth$bits" 2>&1
	sed -n 's/^thread \([0-9]*\).*/TID \1:/p; /^#/p' "$tmp/truth$bits" > "$tmp/truth$bits.frames"
	for engine in $engines; do
		ok=1
		"$VDSOSCOPE" backtrace --core "$core" --engine $engine --json > "$tmp/without.json" \
			2> "$tmp/err" || ok=0
		: > "$tmp/cmp"
		[ "$bits" = 32 ] ||
			$BTCMP check "$tmp/without.json" --eu-prefix "$tmp/eu$bits" --all-names \
				>> "$tmp/cmp" 2>&1 || ok=0
		$BTCMP check "$tmp/without.json" --eu-prefix "$tmp/truth$bits.frames" >> "$tmp/cmp" 2>&1 ||
			ok=0
		[ "$(end_of "$tmp/without.json" | grep -c -e 'not found: .*static-threads' -e 'static-threads[0-9]* not found')" = 3 ] || ok=0
		if [ $ok = 1 ]; then
			pass "$bits: static core without -e, engine $engine: no invented frame, the missing file named"
		else
			fail "$bits: static core without -e, engine $engine"
			sed 's/^/  | /' "$tmp/err" "$tmp/cmp"; end_of "$tmp/without.json" | sed 's/^/  | /'
		fi
	done

	# another build at the recorded path is refused; the right one is
	# found by build-id under a debug root, as gdb's debug-file-directory
	id=$(readelf -nW "$moved" | sed -n 's/.*Build ID: *//p')
	$CC -m$bits -O0 -static -pthread -o "$exe" "$top_srcdir/tests/static-threads.c"
	if "$VDSOSCOPE" backtrace --core "$core" --json > "$tmp/other.json" 2> "$tmp/err" &&
	   [ "$(end_of "$tmp/other.json" | grep -c 'static-threads'"$bits"', is not the build the process ran')" = 3 ] &&
	   $BTCMP check "$tmp/other.json" --eu-prefix "$tmp/truth$bits.frames" > "$tmp/cmp" 2>&1; then
		pass "$bits: another build at the recorded path: refused, and said so"
	else
		fail "$bits: another build at the recorded path"
		sed 's/^/  | /' "$tmp/err" "$tmp/cmp"; end_of "$tmp/other.json" | sed 's/^/  | /'
	fi
	mkdir -p "$tmp/debugroot$bits/.build-id/$(echo "$id" | cut -c1-2)"
	ln -s "$moved" "$tmp/debugroot$bits/.build-id/$(echo "$id" | cut -c1-2)/$(echo "$id" | cut -c3-)"
	for engine in $engines; do
		if [ -n "$id" ] &&
		   "$VDSOSCOPE" backtrace --core "$core" --debug-dir "$tmp/debugroot$bits" \
			--engine $engine --json > "$tmp/byid.json" 2> "$tmp/err" &&
		   $BTCMP check "$tmp/byid.json" $cmp "$tmp/eu$bits" --all-names --main > "$tmp/cmp" 2>&1
		then
			pass "$bits: the executable by build-id under --debug-dir ROOT, $engine = eu-stack -e"
		else
			fail "$bits: the executable by build-id under --debug-dir ROOT, $engine (build-id '$id')"
			sed 's/^/  | /' "$tmp/err" "$tmp/cmp"
		fi
	done
	rm -f "$exe"
	mkdir -p "$tmp/sysroot$bits$(dirname "$exe")"
	cp "$moved" "$tmp/sysroot$bits$exe"
	for engine in $engines; do
		if "$VDSOSCOPE" backtrace --core "$core" --sysroot "$tmp/sysroot$bits" --engine $engine \
			--json > "$tmp/sysroot.json" 2> "$tmp/err" &&
		   $BTCMP check "$tmp/sysroot.json" $cmp "$tmp/eu$bits" --all-names --main \
			> "$tmp/cmp" 2>&1; then
			pass "$bits: the executable under --sysroot, $engine = eu-stack -e"
		else
			fail "$bits: the executable under --sysroot, $engine"
			sed 's/^/  | /' "$tmp/err" "$tmp/cmp"
		fi
	done

	# the same core from a process that had no vDSO
	if ! set_auxv_zero "$core" "$tmp/novdso$bits.core"; then
		fail "$bits: the core has no AT_SYSINFO_EHDR to clear"
		return
	fi
	# x86_64 threads outside the vDSO unwind whole; every i386 thread
	# sits in __kernel_vsyscall, where a process without a vDSO has no code
	if [ "$bits" = 64 ]; then
		more="--main"
	else
		more=""
	fi
	if "$VDSOSCOPE" backtrace --core "$tmp/novdso$bits.core" -e "$moved" --json \
		> "$tmp/novdso.json" 2> "$tmp/err" &&
	   grep -q '"no_vdso":"[^"]*AT_SYSINFO_EHDR is 0' "$tmp/novdso.json" &&
	   $BTCMP check "$tmp/novdso.json" --eu-prefix "$tmp/truth$bits.frames" --all-names $more \
		> "$tmp/cmp" 2>&1 &&
	   { [ "$bits" = 32 ] || [ "$(python3 -c 'import json,sys; print(sum(len(t["frames"]) >= 5 for t in json.load(open(sys.argv[1]))["threads"]))' "$tmp/novdso.json")" -ge 2 ]; } &&
	   ! end_of "$tmp/novdso.json" | grep -q outermost.*undefined.*vdso; then
		pass "$bits: AT_SYSINFO_EHDR = 0: unwound without a vDSO ($(end_of "$tmp/novdso.json" | sort | uniq -c | tr -s ' ' | tr '\n' ';'))"
	else
		fail "$bits: AT_SYSINFO_EHDR = 0"
		sed 's/^/  | /' "$tmp/err" "$tmp/cmp"
	fi
}

one_static 64
one_static 32

# ---- real cores from other machines ----------------------------------------------------
data=${VDSOSCOPE_SHARED_DATA:-$top_srcdir/../shared/data}/elfutils-cores
if [ ! -d "$data" ]; then
	echo "note: $data is absent: elfutils' cores not tried"
else
	for arch in x86_64 i386; do
		bzip2 -dc "$data/backtrace.$arch.core.bz2" > "$tmp/$arch.core" || continue
		eu-stack --core "$tmp/$arch.core" > "$tmp/eu-$arch" 2>&1
		if "$VDSOSCOPE" backtrace --core "$tmp/$arch.core" --json > "$tmp/$arch.json" \
			2> "$tmp/err" &&
		   $BTCMP check "$tmp/$arch.json" --eu-prefix "$tmp/eu-$arch" > "$tmp/cmp" 2>&1 &&
		   ! end_of "$tmp/$arch.json" | grep -v -q 'was not found: .*backtrace\.'"$arch"'\.exec'; then
			pass "elfutils $arch core: a prefix of eu-stack's frames, the missing executable named"
		else
			fail "elfutils $arch core"
			sed 's/^/  | /' "$tmp/err" "$tmp/cmp"; end_of "$tmp/$arch.json" | sed 's/^/  | /'
		fi
	done
	bzip2 -dc "$data/backtrace.s390x.core.bz2" > "$tmp/s390x.core"
	expect_error "elfutils s390x core: vdsoscope info says there was no vDSO" 1 \
		"AT_SYSINFO_EHDR is 0: the process had no vDSO" "$VDSOSCOPE" info --core "$tmp/s390x.core"
	eu-stack --core "$tmp/s390x.core" > "$tmp/eu-s390x" 2>&1
	if "$VDSOSCOPE" backtrace --core "$tmp/s390x.core" --json > "$tmp/s390x.json" 2> "$tmp/err" &&
	   grep -q '"no_vdso":"[^"]*AT_SYSINFO_EHDR is 0' "$tmp/s390x.json" &&
	   $BTCMP check "$tmp/s390x.json" --eu-prefix "$tmp/eu-s390x" > "$tmp/cmp" 2>&1; then
		pass "elfutils s390x core (no vDSO): backtraced like eu-stack"
	else
		fail "elfutils s390x core (no vDSO)"; sed 's/^/  | /' "$tmp/err" "$tmp/cmp"
	fi
fi
finish

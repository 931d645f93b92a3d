#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdsoscope breakpad against Breakpad itself: the npm package `minidump`'s
# minidump_stackwalk and dump_syms (setup.sh installs it).  Minidumps of an
# x86_64 and an i386 process stopped inside __vdso_clock_gettime (at its
# entry, one instruction later, and at the deepest point of the call) are
# written by tests/minidump-write.py, a Python writer of the test's own that
# shares nothing with vdsoscope: it steps the process under ptrace and lays
# out the header, system info, thread list (ptrace's registers as
# CONTEXT_AMD64/CONTEXT_X86, the stack from /proc/PID/mem), memory list and
# module list (the vDSO named linux-gate.so with a 'BpEL' CodeView record of
# its build-id) as Breakpad's Linux client does.  With the written symbols
# minidump_stackwalk must walk from the vDSO frame to main by call frame
# info; without them it must not.  The files themselves: the module id from
# readelf -n's build-id (and as dump_syms computes it for the image),
# PUBLIC/FUNC addresses from readelf -Ws, STACK CFI covering every row
# `vdsoscope cfi` prints and meaning what dump_syms' STACK CFI means, line
# records as dump_syms writes them from a debug file; both names; errors.
. "${top_srcdir:-.}/tests/lib.sh"
BPCHECK="python3 $top_srcdir/tests/breakpad-check.py"
MDWRITE="python3 $top_srcdir/tests/minidump-write.py"
NPM_DIR=${VDSOSCOPE_NPM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vdsoscope-npm}
BP=$NPM_DIR/node_modules/minidump/bin/linux-x64

[ "$(uname -m)" = x86_64 ] || skip "the minidump package's binaries are for x86_64 Linux"
[ -x "$BP/minidump_stackwalk" ] && [ -x "$BP/dump_syms" ] ||
	skip "minidump_stackwalk/dump_syms not found in $BP (setup.sh installs npm's 'minidump' package there)"
"$BP/minidump_stackwalk" 2>&1 | grep -q Usage || skip "$BP/minidump_stackwalk does not run here"
command -v readelf > /dev/null || skip "readelf (binutils) is not installed"

# check DESCRIPTION ARGS...: breakpad-check.py ARGS must pass
check() { local what=$1; shift; checked last "$what" $BPCHECK "$@"; }

# sym_install DIR FILE: FILE where a symbol supplier looks, DIR/NAME/ID/NAME.sym
sym_install() {
	local id name
	read -r _ _ _ id name < "$2"
	mkdir -p "$1/$name/$id"
	cp "$2" "$1/$name/$id/$name.sym"
}

# one process of BIN (vdso-target or vdso-target32), stopped in the vDSO
arch_run() {
	local arch=$1 bin=$2 exe d=$tmp/$1 base entry off bid id soname link pid lo hi f n
	exe=${bin##*/}
	mkdir -p "$d/sym" "$d/none"
	start_target t "$bin" loop
	pid=$t_pid
	$MDWRITE image "$pid" "$d/vdso.so" || { fail "$arch: reading the vDSO"; return; }
	base=$(awk '/\[vdso\]$/ { split($1, a, "-"); print a[1] }' "/proc/$pid/maps")
	off=$(readelf -Ws "$d/vdso.so" | awk '$8 ~ /^__vdso_clock_gettime@/ { print $2; exit }')
	link=$(readelf -lW "$d/vdso.so" | awk '$1 == "LOAD" { print $3; exit }')
	[ -n "$off" ] && [ -n "$base" ] && [ -n "$link" ] ||
		{ fail "$arch: no __vdso_clock_gettime in readelf -Ws"; return; }
	entry=$(printf '%x' $((0x$base + 0x$off - link)))
	soname=$(readelf -dW "$d/vdso.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
	if ! $MDWRITE dump "$pid" "$entry" "$d" "$soname" > "$d/stops" 2> "$d/mdwrite.err"; then
		grep -q 'Operation not permitted' "$d/mdwrite.err" &&
			skip "ptrace attach refused (kernel.yama.ptrace_scope?): $(tail -n1 "$d/mdwrite.err")"
		fail "$arch: minidump-write.py"; sed 's/^/  | /' "$d/mdwrite.err"; return
	fi
	grep -q '^State:.*T' "/proc/$pid/status" || fail "$arch: the target did not stay stopped"

	expect_ok "$arch: vdsoscope breakpad --pid" "$VDSOSCOPE" breakpad --pid "$pid" -o "$d/out"
	cp "$tmp/out" "$d/written"
	"$VDSOSCOPE" cfi --pid "$pid" --json > "$d/cfi.json"
	"$VDSOSCOPE" breakpad --file "$d/vdso.so" -o "$d/file" > /dev/null 2> "$d/file.err" ||
		fail "$arch: vdsoscope breakpad --file"

	# ---- the files -----------------------------------------------------------------
	bid=$(readelf -n "$d/vdso.so" | awk '/Build ID:/ { print $3 }')
	id=$($BPCHECK id "$bid")
	n=0
	for name in linux-gate.so "$soname"; do
		f=$d/out/$name/$id/$name.sym
		if [ -f "$f" ] && [ "$(head -n1 "$f")" = "MODULE Linux $arch $id $name" ] &&
		   grep -qx "$f" "$d/written"; then
			n=$((n + 1))
		else
			fail "$arch: $f missing, not named by the output, or its MODULE line is '$(head -n1 "$f" 2> /dev/null)'"
		fi
	done
	[ $n = 2 ] && pass "$arch: both names written: linux-gate.so and $soname, id $id from build-id $bid"
	sym=$d/out/linux-gate.so/$id/linux-gate.so.sym
	[ -f "$sym" ] || { fail "$arch: no $sym: nothing more to check"; return; }
	want_info="INFO CODE_ID $(echo "$bid" | tr a-f A-F)"
	ref_head=$("$BP/dump_syms" -i "$d/vdso.so" 2> /dev/null | head -n2 | tr '\n' ' ')
	if [ "$(sed -n 2p "$sym")" = "$want_info" ] &&
	   [ "$ref_head" = "MODULE Linux $arch $id $soname $want_info " ]; then
		pass "$arch: MODULE id and CODE_ID as dump_syms -i gives for the image"
	else
		fail "$arch: '$(sed -n 2p "$sym")', dump_syms -i: '$ref_head'"
	fi
	readelf -Ws "$d/vdso.so" > "$d/readelf-s"
	check "$arch: PUBLIC/FUNC = readelf -Ws" syms "$sym" "$d/readelf-s" "$link"
	check "$arch: STACK CFI covers vdsoscope cfi's rows" cover "$sym" "$d/cfi.json" "0x$base"
	if cmp -s <(tail -n +2 "$sym") <(tail -n +2 "$d/file/linux-gate.so/$id/linux-gate.so.sym"); then
		pass "$arch: --file on the extracted image writes what --pid wrote"
	else
		fail "$arch: --file and --pid differ"
	fi
	"$BP/dump_syms" "$d/vdso.so" > "$d/dump_syms.sym" 2> /dev/null
	if [ "$arch" = x86_64 ]; then
		check "$arch: STACK CFI means what dump_syms' does, at every address" cfi-same \
			"$sym" "$d/dump_syms.sym"
	elif grep -q 'STACK CFI INIT.*\^ \.ra: \$esp [0-9]* + \^' "$sym"; then
		pass "$arch: signal trampolines' DWARF expressions as postfix: $(grep -c '^STACK CFI INIT' "$sym") INIT records"
	else
		fail "$arch: no sigreturn STACK CFI from DWARF expressions"
	fi

	# ---- the walk --------------------------------------------------------------------
	"$BP/dump_syms" "$bin" > "$d/exe.sym" 2> /dev/null
	sym_install "$d/sym" "$sym"
	sym_install "$d/sym" "$d/exe.sym"
	sym_install "$d/none" "$d/exe.sym"
	read -r lo n <<< "$(nm -S --defined-only "$bin" | awk '$4 == "main" { print $1, $2 }')"
	hi=$(printf '%x' $((0x${lo:-0} + 0x${n:-0})))
	for stop in entry next deep; do
		"$BP/minidump_stackwalk" "$d/$stop.dmp" "$d/sym" > "$d/$stop.with" 2> /dev/null
		"$BP/minidump_stackwalk" "$d/$stop.dmp" "$d/none" > "$d/$stop.without" 2> /dev/null
		check "$arch, $(grep "^$stop " "$d/stops"): minidump_stackwalk walks to main by CFI with the symbols" \
			walk "$d/$stop.with" "$lo" "$hi" "$exe"
		check "$arch, $stop: not without them" nowalk "$d/$stop.without" "$lo" "$hi" "$exe"
	done
	# a minidump naming the vDSO by its soname, as Crashpad's does: the
	# file written under the soname
	mkdir -p "$d/crashpad"
	sym_install "$d/crashpad" "$d/out/$soname/$id/$soname.sym"
	sym_install "$d/crashpad" "$d/exe.sym"
	"$BP/minidump_stackwalk" "$d/entry-soname.dmp" "$d/crashpad" > "$d/soname.with" 2> /dev/null
	sed -i "s/^\( *[0-9][0-9]*  \)$soname/\1linux-gate.so/" "$d/soname.with"
	check "$arch, entry, the vDSO named $soname: walks to main with the $soname file" \
		walk "$d/soname.with" "$lo" "$hi" "$exe"
	kill -9 "$pid"
	wait "$pid" 2> /dev/null
}

arch_run x86_64 "$T64"
if [ -x "$T32" ]; then
	arch_run x86 "$T32"
else
	echo "note: no 32-bit test program (gcc-multilib missing): i386 not checked"
fi

# ---- lines from a debug file, as dump_syms writes them -----------------------------
cat > "$tmp/fake.c" <<'C'
static int __attribute__((noinline)) helper(int x)
{
	int y = x * 3;

	return y + 1;
}

int fake_gettime(int x)
{
	return helper(x) + 2;
}
C
if cc -shared -fPIC -O1 -g -Wl,--build-id -Wl,-soname,linux-fake.so.1 "$tmp/fake.c" -o "$tmp/full.so"; then
	strip -o "$tmp/stripped.so" "$tmp/full.so"
	"$VDSOSCOPE" breakpad --file "$tmp/stripped.so" --debug-file "$tmp/full.so" -o "$tmp/lines" > /dev/null
	"$BP/dump_syms" "$tmp/full.so" > "$tmp/full.sym" 2> /dev/null
	f=$(ls "$tmp"/lines/linux-gate.so/*/linux-gate.so.sym)
	for fn in helper fake_gettime; do
		check "debug file: FUNC $fn and its lines as dump_syms" lines "$f" "$tmp/full.sym" "$fn"
	done
else
	echo "note: no C compiler: line records not checked"
fi

# ---- what STACK CFI cannot say: left out and counted -----------------------------------
# f1: from 0x1002 r12 is saved at (rsp+8) & 15 (no such operation in
# Breakpad's language), r13 is undefined (no such rule), r14 is rsp+16 and
# r15 rsp & -16 (Breakpad's "@"); f2's CFA at 0x1006 is (rsp+8) & 15
cat > "$tmp/x.s" <<'S'
	.text
	.globl	f1
	.type	f1, @function
f1:
	.cfi_startproc
	push	%rbx
	.cfi_adjust_cfa_offset 8
	.cfi_offset %rbx, -16
	nop
	.cfi_escape 0x10, 0x0c, 0x04, 0x77, 0x08, 0x3f, 0x1a
	.cfi_undefined %r13
	.cfi_escape 0x16, 0x0e, 0x04, 0x77, 0x00, 0x23, 0x10
	.cfi_escape 0x16, 0x0f, 0x05, 0x77, 0x00, 0x09, 0xf0, 0x1a
	nop
	pop	%rbx
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbx
	ret
	.cfi_endproc
	.size	f1, .-f1
	.globl	f2
	.type	f2, @function
f2:
	.cfi_startproc
	nop
	.cfi_escape 0x0f, 0x04, 0x77, 0x08, 0x3f, 0x1a
	nop
	.cfi_def_cfa %rsp, 8
	ret
	.cfi_endproc
	.size	f2, .-f2
S
if cc -shared -nostdlib -Wl,--build-id -Wl,-soname,linux-x.so.1 "$tmp/x.s" -o "$tmp/x.so" 2> /dev/null; then
	# from readelf: rows of f1 with r12 "exp", rows of f1 from 0x1002
	# (r13 undefined), rows whose CFA is "exp"
	readelf --debug-dump=frames-interp "$tmp/x.so" > "$tmp/x.frames"
	r12=$(awk '/^[0-9a-f]+ .*FDE/ { f++ } f == 1 && length($1) == 16 && $4 == "exp"' "$tmp/x.frames" | wc -l)
	r13=$(awk '/^[0-9a-f]+ .*FDE/ { f++ } f == 1 && length($1) == 16 && $1 >= "0000000000001002"' "$tmp/x.frames" | wc -l)
	cfa=$(awk 'length($1) == 16 && $2 == "exp"' "$tmp/x.frames" | wc -l)
	want="leaves out $cfa row$([ "$cfa" = 1 ] || echo s) and $((r12 + r13)) register rules"
	"$VDSOSCOPE" breakpad --file "$tmp/x.so" -o "$tmp/x" > /dev/null 2> "$tmp/x.err"
	f=$(ls "$tmp"/x/linux-gate.so/*/linux-gate.so.sym)
	if grep -q "$want" "$tmp/x.err" && grep -q '^STACK CFI 1002 .*\$r14: \$rsp 0 + 16 + \$r15: \$rsp 0 + 16 @$' "$f" &&
	   ! grep -q '\$r1[23]:\|^STACK CFI 1006' "$f"; then
		pass "rules without a postfix form left out and counted: $(cat "$tmp/x.err")"
	else
		fail "want '$want' and r14, r15 as postfix, no r12, r13 or 0x1006 row"
		sed 's/^/  | /' "$tmp/x.err" "$f"
	fi
else
	echo "note: cannot assemble x86_64 code: rules left out not checked"
fi

# ---- errors -------------------------------------------------------------------------
expect_error "no image" 1 "nonexistent" "$VDSOSCOPE" breakpad --file "$tmp/nonexistent" -o "$tmp/e1"
: > "$tmp/afile"
expect_error "unwritable DIR" 1 "afile.*(Not a directory|cannot create)" \
	"$VDSOSCOPE" breakpad --self -o "$tmp/afile/sub"
expect_error "no -o" 2 "breakpad needs -o DIR" "$VDSOSCOPE" breakpad --self
finish

#!/bin/bash
# Every input the fuzzers ever found (fuzz/regress/HARNESS/*) and the seed
# images, through the harnesses built as ordinary programs: none may crash,
# hang or allocate without bound (ulimit -v), and images whose CFI was
# refused say why.
. "${top_srcdir:-.}/tests/lib.sh"

shopt -s nullglob
"$VDSOSCOPE" extract -o "$tmp/x86_64.so"
for h in buffer core lookup step vdso-elf object; do
	prog=$top_builddir/tests/replay-$h
	inputs=("$top_srcdir/fuzz/regress/fuzz-$h"/*)
	[ "$h" = core ] || inputs+=("$tmp/x86_64.so")
	[ ${#inputs[@]} -gt 0 ] || continue
	# 1 GiB of address space; an ASan build needs terabytes of shadow
	# reservation, so there the sanitizer's own allocation checks stand in
	(ulimit -v $((1024 * 1024)); timeout 120 "$prog" "${inputs[@]}") > "$tmp/out" 2>&1
	st=$?
	if grep -q ReserveShadowMemoryRange "$tmp/out"; then
		timeout 120 "$prog" "${inputs[@]}" > "$tmp/out" 2>&1
		st=$?
	fi
	if [ $st -eq 0 ]; then
		pass "replay-$h: $(tail -n1 "$tmp/out")"
	else
		fail "replay-$h"
		tail -n 30 "$tmp/out" | sed 's/^/  | /'
	fi
done
for f in "$top_srcdir"/fuzz/regress/fuzz-{lookup,step}/cfi-huge-register*; do
	expect_error "CFI naming a huge register: $(basename "$f")" 1 \
		"CFI unusable: FDE at offset 0x[0-9a-f]+: register [0-9]+ is beyond any architecture" \
		"$VDSOSCOPE" cfi --file "$f"
done
finish

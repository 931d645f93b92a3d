#!/bin/bash
# extract writes exactly the bytes mapped at [vdso], as /proc/PID/mem shows
# them, from a live process and from its core files (gcore and, where
# core_pattern puts cores in the cwd, the kernel's).
. "${top_srcdir:-.}/tests/lib.sh"

check_pair() {
	local what=$1 a=$2 b=$3
	if [ -s "$a" ] && cmp -s "$a" "$b"; then
		pass "$what ($(stat -c %s "$a") bytes)"
	else
		fail "$what"; cmp "$a" "$b"
	fi
}

pattern=$(cat /proc/sys/kernel/core_pattern)
for bits in 64 32; do
	bin=$T64; [ $bits = 32 ] && bin=$T32
	if [ ! -x "$bin" ]; then echo "i386 part skipped: $bin was not built (no gcc -m32)"; continue; fi
	mkdir -p "$tmp/k$bits"
	TARGET_DIR=$tmp/k$bits start_target t "$bin"
	$CHECK mem "$t_pid" "$tmp/mem$bits" > /dev/null || fail "reading /proc/$t_pid/mem"
	"$VDSOSCOPE" extract --pid "$t_pid" -o "$tmp/pid$bits"
	check_pair "$bits-bit: extract --pid = /proc/PID/mem [vdso]" "$tmp/pid$bits" "$tmp/mem$bits"

	if gcore -o "$tmp/g$bits" "$t_pid" > "$tmp/gcore.log" 2>&1; then
		"$VDSOSCOPE" extract --core "$tmp/g$bits.$t_pid" -o "$tmp/gcore$bits"
		check_pair "$bits-bit: extract --core (gcore) = /proc/PID/mem [vdso]" "$tmp/gcore$bits" "$tmp/mem$bits"
		cp "$tmp/g$bits.$t_pid" "$tmp/gcore$bits.core"
	else
		fail "gcore $t_pid"; sed 's/^/  | /' "$tmp/gcore.log"
	fi

	case $pattern in
	"|"*|*/*)
		echo "kernel core skipped: core_pattern is '$pattern' (cores do not land in the cwd)"
		stop_target t ;;
	*)
		kill -ABRT "$t_pid"
		stop_target t
		core=$(ls "$tmp/k$bits"/core* 2>/dev/null | head -n1)
		if [ -n "$core" ]; then
			"$VDSOSCOPE" extract --core "$core" -o "$tmp/kcore$bits"
			check_pair "$bits-bit: extract --core (kernel) = /proc/PID/mem [vdso]" "$tmp/kcore$bits" "$tmp/mem$bits"
		else
			echo "kernel core skipped: no core file appeared (core dumps limited here)"
		fi ;;
	esac
done
finish

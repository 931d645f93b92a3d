# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the store tests (after lib.sh): images to store, and checks.

# make_images: $tmp/img64 and $tmp/img32 (when the i386 target was built):
# the [vdso] bytes of a 64- and a 32-bit process read from /proc/PID/mem;
# $tmp/sN-full.so and $tmp/sN-stripped.so (N = 1, 2): two different
# synthetic images (no libc, soname linux-fake.so.1) and their unstripped
# twins.  Sets have32=1 when img32 exists.
make_images() {
	local n
	start_target t64 "$T64"
	$CHECK mem "$t64_pid" "$tmp/img64" > /dev/null || fail "reading /proc/$t64_pid/mem"
	stop_target t64
	have32=0
	if [ -x "$T32" ]; then
		start_target t32 "$T32"
		$CHECK mem "$t32_pid" "$tmp/img32" > /dev/null || fail "reading /proc/$t32_pid/mem"
		stop_target t32
		have32=1
	else
		echo "i386 image left out: $T32 was not built (no gcc -m32)"
	fi
	for n in 1 2; do
		cat > "$tmp/s$n.c" <<C
static int __attribute__((noinline)) helper(int x)
{
	return x * 3 + $n;
}

int fake_gettime(int x)
{
	return helper(x) + 2;
}
C
		cc -shared -fPIC -O1 -g -nostdlib -Wl,--build-id -Wl,-soname,linux-fake.so.1 \
			"$tmp/s$n.c" -o "$tmp/s$n-full.so" || skip "no C compiler to make test images"
		strip -o "$tmp/s$n-stripped.so" "$tmp/s$n-full.so"
	done
}

# build_id FILE: the GNU build-id as readelf prints it
build_id() {
	readelf -n "$1" | sed -n 's/^ *Build ID: *//p'
}

# same_bytes DESCRIPTION A B
same_bytes() {
	if [ -s "$2" ] && cmp -s "$2" "$3"; then
		pass "$1 ($(stat -L -c %s "$2") bytes)"
	else
		fail "$1: $2 and $3 differ or are missing"
	fi
}

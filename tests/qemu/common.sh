# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by arm64.sh and native.sh: the scratch directory, Debian's arm64
# packages and kernel (downloaded once into the cache), the two boots (a CPU
# without pointer authentication and one with it) and the results they
# bring back over the serial console.  The caller sets here, out and
# timeout_s first.

skip() { echo "SKIP: $*" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

cache=${VDSOSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vdsoscope}
kdir=$cache/arm64-kernel
want_pkg=linux-image-6.1.0-56-cloud-arm64-unsigned

# qemu_scratch NAME: $tmp, removed at exit with the guests still running
qemu_scratch() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
	qemu_pids=""
	trap qemu_cleanup EXIT
	trap 'exit 1' INT TERM HUP
}
qemu_cleanup() {
	local p
	for p in $qemu_pids; do kill "$p" 2> /dev/null; done
	wait 2> /dev/null
	rm -rf "$tmp"
}

need_arch() {
	local rc
	dpkg --print-foreign-architectures | grep -qx arm64 && return
	[ "$(id -u)" = 0 ] || skip "arm64 is no dpkg architecture here (dpkg --add-architecture arm64 as root)"
	dpkg --add-architecture arm64 || skip "dpkg --add-architecture arm64 failed"
	apt-get update -qq > "$tmp/apt.log" 2>&1
	rc=$?
	# another foreign index failing its size check makes this exit 100
	[ $rc = 0 ] || [ $rc = 100 ] || skip "apt-get update failed ($rc)"
}

download() { # DIR PKG...
	local d=$1
	shift
	mkdir -p "$d" && chmod 777 "$d"
	(cd "$d" && apt-get download -q "$@" > "$tmp/apt.log" 2>&1) ||
		skip "apt-get download $*: $(tail -n1 "$tmp/apt.log")"
}

# The kernel in $kdir (this one when the registry has it, else its newest
# cloud-arm64 kernel); $kver its version.
arm64_kernel() {
	local pkg
	pick() {
		if apt-cache show "$want_pkg:arm64" > /dev/null 2>&1; then
			echo "$want_pkg"
		else
			apt-cache pkgnames linux-image- 2> /dev/null |
				grep -E '^linux-image-[0-9.]+-[0-9]+-cloud-arm64-unsigned$' | sort -V | tail -n1
		fi
	}
	if [ ! -s "$kdir/vmlinuz" ]; then
		command -v apt-get > /dev/null && command -v dpkg-deb > /dev/null ||
			skip "no apt-get/dpkg-deb to fetch the arm64 kernel"
		need_arch
		pkg=$(pick)
		if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
			apt-get update -qq > "$tmp/apt.log" 2>&1
			pkg=$(pick)
		fi
		[ -n "$pkg" ] || skip "the registry has no linux-image-*-cloud-arm64-unsigned"
		download "$tmp/k" "$pkg:arm64"
		dpkg-deb -x "$tmp"/k/*.deb "$tmp/k/x" || fail "dpkg-deb -x $pkg"
		mkdir -p "$kdir"
		cp "$tmp"/k/x/boot/vmlinuz-* "$kdir/vmlinuz.new" || fail "no vmlinuz in $pkg"
		basename "$tmp"/k/x/boot/vmlinuz-* | sed 's/^vmlinuz-//' > "$kdir/version"
		mv "$kdir/vmlinuz.new" "$kdir/vmlinuz"
		rm -rf "$tmp/k"
	fi
	kver=$(cat "$kdir/version" 2> /dev/null)
}

# Boots $tmp/initramfs.cpio twice side by side: nopac (cortex-a57) and pac
# (max, with pointer authentication).
boot_both() {
	local start
	boot() { # NAME CPU
		timeout -k 5 "$timeout_s" qemu-system-aarch64 -M virt -cpu "$2" -m 512 -smp 1 \
			-display none -monitor none -serial "file:$tmp/$1.log" -nic none -no-reboot \
			-kernel "$kdir/vmlinuz" -initrd "$tmp/initramfs.cpio" \
			-append 'console=ttyAMA0 rdinit=/init panic=-1 quiet' < /dev/null > "$tmp/$1.qemu" 2>&1
		echo $? > "$tmp/$1.rc"
	}
	start=$(date +%s)
	boot nopac cortex-a57 &
	qemu_pids="$qemu_pids $!"
	boot pac max &
	qemu_pids="$qemu_pids $!"
	wait
	qemu_pids=""
	echo "boots: $(($(date +%s) - start)) s"
}

# The files each guest wrote to its console, into $out/nopac and $out/pac,
# with FILE... and the kernel's version beside them; 1 when a guest failed.
collect_both() {
	local v rc status=0
	for v in nopac pac; do
		rc=$(cat "$tmp/$v.rc")
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
			echo "FAIL: the $v guest did not power off within ${timeout_s}s; its console ends:" >&2
			tail -n 5 "$tmp/$v.log" | cut -c1-160 >&2
			status=1
			continue
		fi
		rm -rf "${out:?}/$v"
		mkdir -p "$out/$v"
		if ! python3 "$here/console.py" "$tmp/$v.log" "$out/$v"; then
			echo "FAIL: $v: qemu exit $rc; console ends:" >&2
			grep -v '^[A-Za-z0-9+/=]*$' "$tmp/$v.log" | tail -n 8 | cut -c1-160 >&2
			cat "$tmp/$v.qemu" >&2
			status=1
			continue
		fi
		cp "$@" "$out/$v/"
		echo "$kver" > "$out/$v/kernel"
	done
	return $status
}

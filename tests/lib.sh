# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the run-*.sh tests: target processes, temporary files, verdicts.
# Exit status follows automake: 0 pass, 1 fail, 77 skip.
set -u
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
: "${VDSOSCOPE:=$top_builddir/tools/vdsoscope}"
CHECK="python3 $top_srcdir/tests/vdso-check.py"
T64=$top_builddir/tests/vdso-target
T32=$top_builddir/tests/vdso-target32

# no test may wait on a debuginfod server it did not start
unset DEBUGINFOD_URLS

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vdsoscope-test.XXXXXX")
failures=0
checks=0
target_pids=""

cleanup() {
	for p in $target_pids; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

skip() { echo "SKIP: $*"; exit 77; }
pass() { checks=$((checks + 1)); echo "ok: $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL: $*"; }

# expect_ok DESCRIPTION COMMAND...: the command must succeed
expect_ok() {
	local what=$1; shift
	if "$@" > "$tmp/out" 2>&1; then pass "$what"; else fail "$what"; sed 's/^/  | /' "$tmp/out"; fi
}

# expect_error DESCRIPTION STATUS PATTERN COMMAND...: the command must exit
# with STATUS and say PATTERN (grep -E) on stderr
expect_error() {
	local what=$1 status=$2 pattern=$3 rc=0; shift 3
	"$@" > "$tmp/out" 2> "$tmp/err" || rc=$?
	if [ "$rc" = "$status" ] && grep -Eq -- "$pattern" "$tmp/err"; then
		pass "$what: $(head -n1 "$tmp/err")"
	else
		fail "$what: exit $rc (want $status), stderr:"
		sed 's/^/  | /' "$tmp/err"
	fi
}

# start_target NAME BINARY [MODE]: runs BINARY MODE with its stdin held
# open by this shell; sets NAME_pid and NAME_base once it printed "ready".
# With TARGET_DIR set it runs there, with core dumps enabled.
start_target() {
	local name=$1 bin=$2 mode=${3:-wait} fd line pid
	case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
	rm -f "$tmp/$name.in" "$tmp/$name.out"
	mkfifo "$tmp/$name.in" "$tmp/$name.out"
	( [ -n "${TARGET_DIR:-}" ] && cd "$TARGET_DIR" && ulimit -c unlimited
	  exec "$bin" "$mode" ) < "$tmp/$name.in" > "$tmp/$name.out" &
	pid=$!
	target_pids="$target_pids $pid"
	exec {fd}> "$tmp/$name.in"
	if ! read -r line < "$tmp/$name.out"; then
		fail "$bin $mode did not start"
		finish
		exit 1
	fi
	eval "${name}_pid=$pid ${name}_fd=$fd ${name}_base=${line#ready }"
}

# stop_target NAME: closes its stdin and waits for it
stop_target() {
	local name=$1 fd pid
	eval "fd=\$${name}_fd pid=\$${name}_pid"
	exec {fd}>&-
	wait "$pid" 2>/dev/null || true
}

# checked first|last DESCRIPTION COMMAND...: COMMAND (a checker) must
# succeed; the verdict quotes the first or last line it printed, a failure
# all of it
checked() {
	local line=$1 what=$2
	shift 2
	if "$@" > "$tmp/chk" 2>&1; then
		if [ "$line" = first ]; then
			pass "$what: $(head -n1 "$tmp/chk")"
		else
			pass "$what: $(tail -n1 "$tmp/chk")"
		fi
	else
		fail "$what"
		sed 's/^/  | /' "$tmp/chk"
	fi
}

# need_profile: skips unless `vdsoscope profile` can sample a child here
need_profile() {
	$VDSOSCOPE profile --help > /dev/null 2>&1 || skip "built without the unwind library (no profile)"
	# one short profile tells whether perf events are allowed here
	if ! $VDSOSCOPE profile --duration 0.2 -- "$T64" profile-workload 1 > /dev/null 2> "$tmp/probe"; then
		grep -q "not permitted" "$tmp/probe" && skip "$(cat "$tmp/probe")"
		grep -q "cannot sample user registers" "$tmp/probe" && skip "$(cat "$tmp/probe")"
	fi
}

finish() {
	echo "$checks checks, $failures failed"
	[ "$checks" -gt 0 ] || { echo "nothing was checked"; exit 1; }
	[ "$failures" -eq 0 ]
}

# build_go OUT: builds the tests' Go program (tests/go/main.go) into OUT;
# fails, with the compiler's words in $tmp/go-build.log, when it cannot
build_go() {
	mkdir -p "$tmp/go-src"
	cp "$top_srcdir/tests/go/main.go" "$tmp/go-src/"
	(cd "$tmp/go-src" && HOME=$tmp GOCACHE=$tmp/gocache GOPATH=$tmp/gopath GO111MODULE=off \
		GOFLAGS= go build -o "$1" main.go) > "$tmp/go-build.log" 2>&1
}

# guest_results NAME KEY COMMAND...: the results of COMMAND OUTDIR (a qemu
# harness), made once per KEY and kept in the cache under NAME; sets res.
# Skips where COMMAND does (exit 77), with its reason.
guest_results() {
	local name=$1 key=$2 rc
	local cache=${VDSOSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vdsoscope}
	shift 2
	res=$cache/$name/$key
	if [ -f "$res/done" ]; then
		echo "note: the guest's results from $res"
		return 0
	fi
	mkdir -p "$cache/$name"
	rm -rf "$res.new"
	# one harness at a time: two guests each already take both CPUs here
	if command -v flock > /dev/null; then
		flock -o "$cache/qemu.lock" "$@" "$res.new" > "$tmp/harness.log" 2> "$tmp/harness.err"
	else
		"$@" "$res.new" > "$tmp/harness.log" 2> "$tmp/harness.err"
	fi
	rc=$?
	cat "$tmp/harness.log"
	[ $rc = 77 ] && skip "$(tail -n1 "$tmp/harness.err")"
	if [ $rc != 0 ]; then
		fail "the qemu harness (exit $rc)"
		sed 's/^/  | /' "$tmp/harness.err"
		finish
		exit 1
	fi
	touch "$res.new/done"
	rm -rf "$res"
	mv "$res.new" "$res"
}

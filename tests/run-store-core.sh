#!/bin/bash
# A core whose vDSO segment was removed, backtraced with the image the store
# holds.  Needs the backtrace command; until it exists this test skips.
. "${top_srcdir:-.}/tests/lib.sh"

if "$VDSOSCOPE" backtrace 2>&1 | grep -q "unknown command 'backtrace'"; then
	skip "vdsoscope has no backtrace command yet; the build-id lookup it will use (store, debug directories, debuginfod) is tested by run-store.sh and run-debuginfod.sh"
fi
fail "a backtrace command exists: this test must now backtrace a core without its vDSO segment through the store"
finish

#!/bin/sh
# The command under valgrind memcheck, for make check-valgrind: any error
# (or a definite leak) makes it exit 99 and is logged in
# $VDSOSCOPE_VALGRIND_LOGS, which check-valgrind reads afterwards.
# Valgrind hides the vDSO from the program it runs (no AT_SYSINFO_EHDR), so
# reading our own (--self, the default) runs natively; --pid, --core and
# --file and --perf-data, where all the parsing of untrusted bytes is, run
# under valgrind.
case " $* " in
*" --pid "* | *" --core "* | *" --file "* | *" --perf-data "*) ;;
*) exec "$VDSOSCOPE_BIN" "$@" ;;
esac
exec "$VDSOSCOPE_LIBTOOL" --mode=execute valgrind --quiet --error-exitcode=99 \
	--leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
	--log-file="$VDSOSCOPE_VALGRIND_LOGS/vg.%p.log" "$VDSOSCOPE_BIN" "$@"

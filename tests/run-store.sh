#!/bin/bash
# The build-id store: what add writes is the bytes /proc/PID/mem shows under
# the build-id readelf reads from them; images that are not vDSOs or lack a
# build-id are refused; verify finds a file stored under another build-id;
# the .build-id view is found by eu-addr2line (libdwfl) and gdb; gc keeps the
# newest; many parallel adds leave exactly one whole copy of each image.
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/store-lib.sh"

unset DEBUGINFOD_URLS VDSOSCOPE_STORE
export HOME=$tmp/home XDG_CACHE_HOME=
make_images
id64=$(build_id "$tmp/img64")
[ -n "$id64" ] || fail "readelf finds no build-id in the x86_64 vDSO"

# ---- add from live processes ------------------------------------------------
S=$tmp/store
start_target t64 "$T64"
expect_ok "store add --pid (x86_64)" "$VDSOSCOPE" store add --store "$S" --pid "$t64_pid"
stop_target t64
same_bytes "x86_64: stored image = /proc/PID/mem [vdso]" "$S/$id64/vdso" "$tmp/img64"
if [ "$have32" = 1 ]; then
	id32=$(build_id "$tmp/img32")
	start_target t32 "$T32"
	expect_ok "store add --pid (i386)" "$VDSOSCOPE" store add --store "$S" --pid "$t32_pid"
	stop_target t32
	same_bytes "i386: stored image = /proc/PID/mem [vdso]" "$S/$id32/vdso" "$tmp/img32"
fi
if [ "$("$VDSOSCOPE" store path --store "$S" "$id64")" = "$S/$id64/vdso" ]; then
	pass "store path $id64"
else
	fail "store path $id64: $("$VDSOSCOPE" store path --store "$S" "$id64" 2>&1)"
fi
expect_error "store path of an absent build-id" 1 "not found" \
	"$VDSOSCOPE" store path --store "$S" 0123456789abcdef
expect_error "store path of a malformed build-id" 2 "'xy'.*'x' is not a hex digit" \
	"$VDSOSCOPE" store path --store "$S" xy
expect_error "store with no subcommand" 2 "give a command" "$VDSOSCOPE" store
expect_error "store gc without --keep" 2 "gc needs --keep" "$VDSOSCOPE" store gc --store "$S"

# the default directory follows XDG_CACHE_HOME, then HOME
XDG_CACHE_HOME=$tmp/xdg "$VDSOSCOPE" store add --file "$tmp/img64" > /dev/null
same_bytes "default store under \$XDG_CACHE_HOME/vdsoscope" "$tmp/xdg/vdsoscope/$id64/vdso" "$tmp/img64"
"$VDSOSCOPE" store add --file "$tmp/img64" > /dev/null
same_bytes "default store under \$HOME/.cache/vdsoscope" "$HOME/.cache/vdsoscope/$id64/vdso" "$tmp/img64"
VDSOSCOPE_STORE=$tmp/envstore "$VDSOSCOPE" store add --file "$tmp/img64" > /dev/null
same_bytes "VDSOSCOPE_STORE names the store" "$tmp/envstore/$id64/vdso" "$tmp/img64"

# ---- symbolize --build-id against readelf on the stored bytes -----------------
for img in img64 img32; do
	[ -f "$tmp/$img" ] || continue
	id=$(build_id "$tmp/$img")
	readelf -W --dyn-syms "$tmp/$img" | awk '$4 == "FUNC" && $5 == "GLOBAL" && $2 !~ /^0+$/ { sub(/@.*/, "", $8); print $2, $8 }' |
	sort -u > "$tmp/$img.funcs"
	while read -r addr name; do
		a=$(printf '0x%x' $((0x$addr + 1)))
		got=$("$VDSOSCOPE" symbolize --store "$S" --build-id "$id" "$a")
		case $got in
		"$a $name@"*"+0x1") pass "$img: symbolize --build-id $a: $got" ;;
		*) fail "$img: symbolize --build-id $a: '$got', readelf has $name at 0x$addr" ;;
		esac
	done < "$tmp/$img.funcs"
	[ -s "$tmp/$img.funcs" ] || fail "$img: readelf lists no functions"
done
got=$("$VDSOSCOPE" info --json --store "$S" --build-id "$id64" | python3 -c 'import json,sys; print(json.load(sys.stdin)["source"])')
[ "$got" = "build-id $id64 (store $S/$id64/vdso)" ] && pass "source: $got" || fail "source: $got"
"$VDSOSCOPE" symbolize --json --store "$S" --build-id "$id64" +0xaf5 > "$tmp/sym.json" &&
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/sym.json" &&
	pass "symbolize --build-id --json parses" || fail "symbolize --build-id --json"
expect_error "--build-id not anywhere" 1 "build-id 00112233: no open image, store $tmp/empty" \
	"$VDSOSCOPE" symbolize --store "$tmp/empty" --debug-dir "$tmp/none" --build-id 00112233 0x0
expect_error "--build-id malformed" 2 "build-id '12345'" "$VDSOSCOPE" info --build-id 12345

# ---- refusals ------------------------------------------------------------------
cc -shared -fPIC -O1 -nostdlib -Wl,--build-id=none "$tmp/s1.c" -o "$tmp/noid.so"
expect_error "add refuses an image without build-id" 1 "noid.so: the image has no build-id note" \
	"$VDSOSCOPE" store add --store "$S" --file "$tmp/noid.so"
printf '#include <stdio.h>\nvoid say(void) { puts("hi"); }\n' > "$tmp/libc-user.c"
cc -shared -fPIC -O1 -Wl,--build-id -Wl,--no-as-needed "$tmp/libc-user.c" -o "$tmp/libc-user.so"
expect_error "add refuses a library that needs libc" 1 "not a vDSO image: it needs libc.so" \
	"$VDSOSCOPE" store add --store "$S" --file "$tmp/libc-user.so"
head -c 1000 "$tmp/img64" > "$tmp/trunc"
expect_error "add refuses a truncated image" 1 "trunc" "$VDSOSCOPE" store add --store "$S" --file "$tmp/trunc"
[ -z "$(find "$S" -name '*.tmp')" ] && pass "refusals left no files behind" || fail "leftovers: $(find "$S" -name '*.tmp')"

expect_error "verify of a missing store" 1 "store $tmp/missing: No such file" \
	"$VDSOSCOPE" store verify --json --store "$tmp/missing"
[ ! -s "$tmp/out" ] && pass "no output for a missing store" || fail "output: $(cat "$tmp/out")"
expect_ok "verify a good store" "$VDSOSCOPE" store verify --store "$S"
if [ "$have32" = 1 ]; then
	# an image whose content is not its name's build-id
	B=$tmp/bad
	mkdir -p "$B/$id64"
	cp "$tmp/img32" "$B/$id64/vdso"
	"$VDSOSCOPE" store verify --store "$B" > "$tmp/verify" 2>&1 && fail "verify passed a mislabelled image"
	grep -q "$B/$id64/vdso: build-id note is $id32, not the entry's name" "$tmp/verify" &&
		pass "verify names the mislabelled image" || { fail "verify output:"; cat "$tmp/verify"; }
	expect_error "lookup refuses the mislabelled image" 1 "store file $B/$id64/vdso has build-id $id32, not $id64" \
		"$VDSOSCOPE" info --store "$B" --build-id "$id64"
fi

# ---- the .build-id view, read by libdwfl and gdb -------------------------------
D=$tmp/dstore
sid=$(build_id "$tmp/s1-stripped.so")
expect_ok "add with a debug file" "$VDSOSCOPE" store add --store "$D" --file "$tmp/s1-stripped.so" --debug-file "$tmp/s1-full.so"
same_bytes "stored debug file = the unstripped image" "$D/$sid/vdso.debug" "$tmp/s1-full.so"
[ "$(readlink "$D/.build-id/${sid:0:2}/${sid:2}")" = "../../$sid/vdso" ] && pass ".build-id/xx/rest -> image" || fail ".build-id image link"
same_bytes ".build-id/xx/rest.debug resolves to the debug file" "$D/.build-id/${sid:0:2}/${sid:2}.debug" "$tmp/s1-full.so"
[ "$(stat -c %Y "$D/$sid/vdso.debug")" -lt "$(stat -c %Y "$D/$sid/vdso")" ] &&
	pass "debug file is older than the image" || fail "debug file mtime is not older than the image's"
helper=$(readelf -Ws "$tmp/s1-full.so" | awk '$8 == "helper" { print "0x" $2 }')
a=$(printf '0x%x' $((helper + 1)))
want=$(eu-addr2line -e "$tmp/s1-full.so" "$a")
got=$(eu-addr2line --debuginfo-path="$D" -e "$tmp/s1-stripped.so" "$a")
none=$(eu-addr2line --debuginfo-path="$tmp/none" -e "$tmp/s1-stripped.so" "$a")
if [ "$got" = "$want" ] && [ "$none" != "$want" ]; then
	pass "eu-addr2line --debuginfo-path=STORE finds the debug file: $got (without: $none)"
else
	fail "eu-addr2line with the store '$got', on the debug file '$want', without '$none'"
fi
if command -v gdb > /dev/null; then
	gdbline() { gdb -nx -batch -ex "set debug-file-directory $1" -ex "file $tmp/s1-stripped.so" -ex "info line *$a" 2>&1 | tail -n1; }
	got=$(gdbline "$D"); none=$(gdbline "$tmp/none")
	case $got in
	"Line 3 of \""*"s1.c\" "*) [ "$got" != "$none" ] && pass "gdb debug-file-directory=STORE: $got" ||
		fail "gdb finds the line without the store too: $none" ;;
	*) fail "gdb with debug-file-directory=STORE: '$got'" ;;
	esac
else
	echo "gdb part skipped: gdb is not installed"
fi
got=$("$VDSOSCOPE" symbolize --store "$D" --build-id "$sid" "$a")
case $got in
"$a helper+0x1 "*"s1.c:3") pass "symbolize --build-id uses the stored debug file: $got" ;;
*) fail "symbolize --build-id with stored debug file: '$got'" ;;
esac

# ---- gc keeps the newest --------------------------------------------------------
G=$tmp/gstore
for f in "$tmp/s1-stripped.so" "$tmp/s2-stripped.so" "$tmp/img64"; do
	"$VDSOSCOPE" store add --store "$G" --file "$f" > /dev/null || fail "store add $f"
done
s2id=$(build_id "$tmp/s2-stripped.so")
touch -d '2001-01-01' "$G/$sid"; touch -d '2002-01-01' "$G/$s2id"; touch -d '2003-01-01' "$G/$id64"
"$VDSOSCOPE" store list --store "$G" | awk 'NR > 1 { print $1 }' > "$tmp/list"
printf '%s\n' "$id64" "$s2id" "$sid" | diff -u - "$tmp/list" && pass "list: newest first" || fail "list order"
expect_ok "gc --keep 2" "$VDSOSCOPE" store gc --store "$G" --keep 2
if [ ! -e "$G/$sid" ] && [ ! -L "$G/.build-id/${sid:0:2}/${sid:2}" ] && [ -f "$G/$s2id/vdso" ] && [ -f "$G/$id64/vdso" ]; then
	pass "gc removed the oldest entry and its link, kept the two newest"
else
	fail "gc: $(find "$G" | sort)"
fi
expect_ok "verify after gc" "$VDSOSCOPE" store verify --store "$G"

# ---- many adds at once ----------------------------------------------------------
P=$tmp/pstore
imgs="$tmp/img64 $tmp/s1-stripped.so $tmp/s2-stripped.so"
[ "$have32" = 1 ] && imgs="$imgs $tmp/img32"
pids=""
for round in 1 2 3 4 5 6 7 8; do
	for f in $imgs; do
		"$VDSOSCOPE" store add --store "$P" --file "$f" > "$tmp/add.$round.$(basename "$f")" 2>&1 &
		pids="$pids $!"
	done
	"$VDSOSCOPE" store add --store "$P" --file "$tmp/s1-stripped.so" --debug-file "$tmp/s1-full.so" \
		> "$tmp/add.$round.dbg" 2>&1 &
	pids="$pids $!"
done
bad=0
for p in $pids; do wait "$p" || bad=$((bad + 1)); done
[ $bad = 0 ] && pass "$(echo $pids | wc -w) parallel adds succeeded" || { fail "$bad parallel adds failed"; cat "$tmp"/add.*; }
n=0
for f in $imgs; do
	id=$(build_id "$f")
	n=$((n + 1))
	same_bytes "parallel: $(basename "$f") stored whole" "$P/$id/vdso" "$f"
	added=$(cat "$tmp"/add.* | grep -c "^$id added")
	[ "$added" = 1 ] && pass "parallel: exactly one add wrote $id" || fail "parallel: $added adds wrote $id"
done
same_bytes "parallel: debug file stored whole" "$P/$sid/vdso.debug" "$tmp/s1-full.so"
files=$(find "$P" -type f | wc -l)
[ "$files" = $((n + 1)) ] && pass "parallel: $files files, one per image and debug file" ||
	{ fail "parallel: $files files for $n images and one debug file"; find "$P" -type f; }
expect_ok "verify after parallel adds" "$VDSOSCOPE" store verify --store "$P"

finish

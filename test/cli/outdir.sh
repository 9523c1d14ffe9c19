#!/usr/bin/env bash
# Safe output directories and a safe build cache (issue #10 part 3, the
# CFLAGS item of part 5, the warm path of part 6):
#   - `synth --out DIR` replaces only a cloud assembly: a user's directory,
#     ., /, $HOME, the backend's directory or one above it, a file are
#     refused with nothing touched; a read-only directory, a full disk,
#     SIGKILL of synth or of the backend at random points leave the previous
#     assembly byte-identical (or the new one complete), and the next run
#     cleans what a killed run left;
#   - --app programs that write a broken or incomplete assembly are refused
#     before the swap (exit 4);
#   - concurrent synth runs in one directory all succeed;
#   - CPPFLAGS, CFLAGS, LDFLAGS, LDLIBS reach the compile and the cache key;
#   - a warm synth runs no pkg-config, yet sees every kind of change.
. "$(dirname "$0")/lib/common.bash"

H=$TMP/h/hello
copy_sample "$SYNTH_ROOT/samples/hello" "$H"

# tree_sum DIR: one line per file and directory under DIR, with the file's
# SHA-256 (the byte-identity of a tree).
tree_sum() {
	(cd "$1" 2>/dev/null && find . -mindepth 1 -printf '%y %p\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0r sha256sum)
}
# stray DIR: what runs leave beside an output directory or in .synth/.
stray() {
	find "$1" -maxdepth 1 \( -name '*.stage.*' -o -name '*.tmp.*' -o -name '*.old.*' \) -print
	find "$1/.synth" -maxdepth 1 \( -name 'build.*' -o -name '*.tmp.*' \) -print 2>/dev/null
}
# procs_in DIR: pids of processes whose working directory is DIR.
procs_in() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/cwd" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"
	done
}
# wait_idle DIR: polls (deadline 300 s: a loaded machine) until no process
# works in DIR.
idle() { [ -z "$(procs_in "$1")" ]; }
wait_idle() { poll_until 300 idle "$1"; }

synth_in "$H" --branch main -q
check_eq "first synth: exit 0" "$RC" 0
[ "$RC" -eq 0 ] || diag "$ERR"
S0=$(tree_sum "$H/cdk.out")
LS0=$(cd "$H" && ls -a)

# --- directories synth must not replace -------------------------------------
FN0=$(tree_sum "$H/functions")
synth_in "$H" --branch main -q --out functions
check_eq "--out functions (the backend's code): exit 2" "$RC" 2
check_contains "--out functions: says it is not a cloud assembly" "$ERR" \
	"functions is not a cloud assembly"
check_eq "--out functions: the code is untouched" "$(tree_sum "$H/functions")" "$FN0"

synth_in "$H" --branch main -q --out functions/greeter/
check_eq "--out functions/greeter/: exit 2" "$RC" 2

synth_in "$H" --branch main -q --out .
check_eq "--out .: exit 2" "$RC" 2
check_contains "--out .: names the backend's directory" "$ERR" "is the backend's directory"
check_eq "--out .: nothing created or removed" "$(cd "$H" && ls -a)" "$LS0"

synth_in "$H" --branch main -q --out ..
check_eq "--out .. (above the backend): exit 2" "$RC" 2
check_contains "--out ..: says so" "$ERR" "or one above it"

synth_in "$H" --branch main -q --out /
check_eq "--out /: exit 2" "$RC" 2
check_contains "--out /: names the root directory" "$ERR" "is the root directory"
check_eq "--out /: no staging directory in /" "$(find / -maxdepth 1 -name '.stage.*' -o -maxdepth 1 -name '.tmp.*')" ""

FH=$TMP/home
mkdir -p "$FH/docs" && echo keep >"$FH/docs/notes.txt"
HOME0=$HOME
HOME=$FH
synth_in "$H" --branch main -q --out ~
check_eq "--out ~: exit 2" "$RC" 2
check_contains "--out ~: names the home directory" "$ERR" "is your home directory"
synth_in "$H" --branch main -q --out "$FH/"
check_eq "--out \$HOME/: exit 2" "$RC" 2
HOME=$HOME0
check_eq "--out ~: the home directory untouched" "$(cat "$FH/docs/notes.txt")" keep

echo 'do not lose me' >"$H/notes.txt"
synth_in "$H" --branch main -q --out notes.txt
check_eq "--out FILE: exit 5 (as before)" "$RC" 5
check_contains "--out FILE: says it is not a directory" "$ERR" "not a directory"
check_eq "--out FILE: the file untouched" "$(cat "$H/notes.txt")" "do not lose me"

mkdir -p "$H/mine" && echo '{}' >"$H/mine/manifest.json" && echo x >"$H/mine/data.txt"
synth_in "$H" --branch main -q --out mine
check_eq "--out DIR holding a manifest.json that is not an assembly's: exit 2" "$RC" 2
check_eq "... and DIR untouched" "$(cat "$H/mine/data.txt")" x

mkdir -p "$H/empty"
synth_in "$H" --branch main -q --out empty
check_eq "--out an empty directory: exit 0" "$RC" 0
check "--out an empty directory: the assembly is in it" test -f "$H/empty/manifest.json"
# Another CDK tool's assembly (a manifest with version and artifacts).
mkdir -p "$H/other.out"
printf '{"version":"36.0.0","artifacts":{}}\n' >"$H/other.out/manifest.json"
echo tree >"$H/other.out/tree.json"
synth_in "$H" --branch main -q --out other.out
check_eq "--out another tool's cloud assembly: replaced (exit 0)" "$RC" 0
check "... by synth's assembly" test ! -e "$H/other.out/tree.json"
synth_in "$H" --branch main -q
check_eq "the default cdk.out is still replaced (exit 0)" "$RC" 0
check_eq "all refusals: cdk.out byte-identical" "$(tree_sum "$H/cdk.out")" "$S0"
check_eq "all refusals: nothing left beside it" "$(stray "$H")" ""

# The library refuses too (a backend run on its own).
(cd "$H" && CDK_OUTDIR=functions CDK_CONTEXT_JSON='{"synth:type":"branch","synth:name":"main"}' \
	./.synth/backend) >/dev/null 2>"$TMP/direct.err"
check "the backend run on its own with CDK_OUTDIR=functions: fails" test $? -ne 0
check "... saying functions is not a cloud assembly" grep -q "functions is not a cloud assembly" "$TMP/direct.err"
check_eq "... and the code is untouched" "$(tree_sum "$H/functions")" "$FN0"

# --- read-only output directory or parent -----------------------------------
RO=$TMP/ro
mkdir -p "$RO/parent"
synth_in "$H" --branch main -q --out "$RO/parent/out"
check_eq "an assembly in ro/parent/out: exit 0" "$RC" 0
R0=$(tree_sum "$RO/parent/out")
if [ "$(id -u)" -eq 0 ]; then
	# root ignores modes: read-only bind mounts make the directories read-only.
	if mount --bind "$RO/parent/out" "$RO/parent/out" 2>/dev/null &&
		mount -o remount,bind,ro "$RO/parent/out"; then
		synth_in "$H" --branch main -q --out "$RO/parent/out"
		check_eq "read-only output directory: exit 5" "$RC" 5
		check_contains "read-only output directory: says it cannot write it" "$ERR" "cannot write $RO/parent/out"
		umount "$RO/parent/out"
		check_eq "read-only output directory: byte-identical" "$(tree_sum "$RO/parent/out")" "$R0"
		mount --bind "$RO/parent" "$RO/parent" && mount -o remount,bind,ro "$RO/parent"
		synth_in "$H" --branch main -q --out "$RO/parent/out"
		check_eq "read-only parent: exit 5" "$RC" 5
		check_contains "read-only parent: says it cannot write there" "$ERR" "cannot write in $RO/parent"
		umount "$RO/parent"
		check_eq "read-only parent: byte-identical, nothing beside it" \
			"$(tree_sum "$RO/parent/out")$(stray "$RO/parent")" "$R0"
	else
		fail "read-only output directory: cannot bind-mount as root"
	fi
else
	chmod 555 "$RO/parent/out"
	synth_in "$H" --branch main -q --out "$RO/parent/out"
	check_eq "read-only output directory: exit 5" "$RC" 5
	chmod 755 "$RO/parent/out"
	chmod 555 "$RO/parent"
	synth_in "$H" --branch main -q --out "$RO/parent/out"
	check_eq "read-only parent: exit 5" "$RC" 5
	chmod 755 "$RO/parent"
	check_eq "read-only: byte-identical" "$(tree_sum "$RO/parent/out")" "$R0"
fi
synth_in "$H" --branch main -q --out "$RO/parent/out"
check_eq "writable again: exit 0" "$RC" 0

# --- a full disk ------------------------------------------------------------
if [ "$(id -u)" -eq 0 ]; then
	FULL=$TMP/full
	mkdir -p "$FULL"
	if mount -t tmpfs -o size=400k synth-full "$FULL"; then
		synth_in "$H" --branch main -q --out "$FULL/cdk.out"
		check_eq "full disk: the first assembly fits (exit 0)" "$RC" 0
		F0=$(tree_sum "$FULL/cdk.out")
		dd if=/dev/zero of="$FULL/filler" bs=1k 2>/dev/null
		echo '// a change' >>"$H/functions/greeter/index.js"
		synth_in "$H" --branch main -q --out "$FULL/cdk.out"
		check "full disk: synth fails (exit $RC)" test "$RC" -ne 0
		check_contains "full disk: says the disk is full" "$ERR" "No space left on device"
		check_eq "full disk: the previous assembly byte-identical" "$(tree_sum "$FULL/cdk.out")" "$F0"
		check_eq "full disk: nothing left beside it" "$(stray "$FULL")" ""
		rm -f "$FULL/filler"
		synth_in "$H" --branch main -q --out "$FULL/cdk.out"
		check_eq "full disk, space freed: exit 0" "$RC" 0
		umount "$FULL"
	else
		fail "full disk: cannot mount a tmpfs as root"
	fi
else
	echo "# skipped the full-disk case: mounting a small tmpfs needs root (uid $(id -u))"
fi

# --- SIGKILL at random points -----------------------------------------------
# Each run changes a function's code, so the old and the new assembly differ:
# after the kill, cdk.out is the previous one byte for byte, or the new one
# complete (assembly_complete checks every file the manifests name and every
# asset's SHA-256).
assembly_complete() {
	python3 - "$1" <<'P'
import glob, hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
for a in m["artifacts"].values():
    p = a.get("properties", {})
    if a["type"] == "aws:cloudformation:stack":
        json.load(open(os.path.join(d, p["templateFile"])))
    if a["type"] == "cdk:asset-manifest":
        am = json.load(open(os.path.join(d, p["file"])))
        for h, f in am.get("files", {}).items():
            data = open(os.path.join(d, f["source"]["path"]), "rb").read()
            if not f["source"]["path"].endswith(".json") and hashlib.sha256(data).hexdigest() != h:
                sys.exit("asset %s: content does not match" % h)
P
}
synth_in "$H" --branch main -q
PREV=$(tree_sum "$H/cdk.out")
bad=0 badk=0 killed=0
for i in $(seq 1 12); do
	echo "// kill $i" >>"$H/functions/greeter/index.js"
	(cd "$H" && exec "$SYNTH" --branch main -q 2>/dev/null) &
	pid=$!
	sleep "0.0$((RANDOM % 60 + 5))"
	kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
	wait "$pid" 2>/dev/null
	wait_idle "$H" || diag "run $i: processes still working in $H"
	now=$(tree_sum "$H/cdk.out")
	if [ "$now" != "$PREV" ] && ! assembly_complete "$H/cdk.out" 2>"$TMP/ac.err"; then
		bad=$((bad + 1))
		diag "run $i: cdk.out is neither the previous assembly nor a complete one"
		diag_file "$TMP/ac.err"
	fi
	synth_in "$H" --branch main -q
	[ "$RC" -eq 0 ] || { bad=$((bad + 1)); diag "run $i: the next synth failed: $ERR"; }
	if [ -n "$(stray "$H")" ]; then
		badk=$((badk + 1))
		diag "run $i: left behind:" "$(stray "$H")"
	fi
	PREV=$(tree_sum "$H/cdk.out")
done
echo "# SIGKILL of synth: $killed of 12 runs killed before they ended"
check_eq "SIGKILL of synth: cdk.out always the previous assembly or a complete new one" "$bad" 0
check_eq "SIGKILL of synth: the next run leaves nothing of the killed one" "$badk" 0

# SIGKILL of the backend program (--app runs it through /bin/sh).
bad=0
for i in $(seq 1 8); do
	echo "// kill backend $i" >>"$H/functions/greeter/index.js"
	PREV=$(tree_sum "$H/cdk.out")
	(cd "$H" && exec "$SYNTH" --branch main -q --app 'exec ./.synth/backend' 2>"$TMP/kb.err") &
	pid=$!
	sleep "0.0$((RANDOM % 30 + 1))"
	for p in $(procs_in "$H"); do
		[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$H/.synth/backend" ] && kill -9 "$p" 2>/dev/null
	done
	wait "$pid"
	rc=$?
	wait_idle "$H"
	now=$(tree_sum "$H/cdk.out")
	if [ "$rc" -ne 0 ] && [ "$now" != "$PREV" ]; then
		bad=$((bad + 1)); diag "backend run $i: exit $rc but cdk.out changed"
	elif [ "$rc" -eq 0 ] && ! assembly_complete "$H/cdk.out" 2>"$TMP/ac.err"; then
		bad=$((bad + 1)); diag "backend run $i: exit 0 but the assembly is incomplete"
	elif [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ]; then
		bad=$((bad + 1)); diag "backend run $i: exit $rc (want 4 for a killed backend)"; diag_file "$TMP/kb.err"
	fi
	[ -z "$(stray "$H")" ] || { bad=$((bad + 1)); diag "backend run $i: left behind: $(stray "$H")"; }
done
check_eq "SIGKILL of the backend: exit 4 and cdk.out byte-identical (or exit 0 and complete), nothing left" "$bad" 0

# Stale directories of dead runs (a pid that cannot be alive) are cleaned,
# a live run's are not.
mkdir -p "$H/cdk.out.stage.999999999/x" "$H/cdk.out.tmp.999999998" "$H/.synth/build.999999997"
mkdir -p "$H/cdk.out.stage.$$" "$H/cdk.out.stage.notes"
synth_in "$H" --branch main -q
check_eq "stale staging of dead pids: removed" \
	"$(ls -d "$H"/cdk.out.stage.999999999 "$H"/cdk.out.tmp.999999998 "$H"/.synth/build.999999997 2>/dev/null)" ""
check "a live process's staging directory: kept" test -d "$H/cdk.out.stage.$$"
check "a directory not named by a pid: kept" test -d "$H/cdk.out.stage.notes"
rmdir "$H/cdk.out.stage.$$" "$H/cdk.out.stage.notes"
# A two-rename swap killed between its renames: the previous assembly is put back.
mv "$H/cdk.out" "$H/cdk.out.old.999999996"
G0=$(tree_sum "$H/cdk.out.old.999999996")
synth_in "$H" --branch main -q --app 'exit 3'
check_eq "an assembly moved aside by a killed run: put back (even when the run fails)" \
	"$(tree_sum "$H/cdk.out")" "$G0"

# --- --app writing a broken assembly ----------------------------------------
GOOD=$TMP/good
cp -r "$H/cdk.out" "$GOOD"
A0=$(tree_sum "$H/cdk.out")
TPL=$(cd "$GOOD" && ls *.template.json | head -1)
ZIP=$(cd "$GOOD" && ls asset.*.zip | head -1)
app_case() { # DESC APP NEEDLE [FLAGS]
	synth_in "$H" --branch main -q --app "$2" ${4:-}
	check_eq "--app $1: exit 4" "$RC" 4
	check_contains "--app $1: says why" "$ERR" "$3"
	check_eq "--app $1: cdk.out byte-identical, nothing left" "$(tree_sum "$H/cdk.out")$(stray "$H")" "$A0"
}
app_case "writing nothing" 'true' "no manifest.json"
app_case "writing files but no manifest" 'mkdir -p "$CDK_OUTDIR" && echo x >"$CDK_OUTDIR/a.json"' "no manifest.json"
app_case "writing {} as manifest" 'mkdir -p "$CDK_OUTDIR" && echo "{}" >"$CDK_OUTDIR/manifest.json"' \
	"not a cloud assembly manifest"
app_case "writing a manifest that is not JSON" \
	'mkdir -p "$CDK_OUTDIR" && echo "{\"version\":" >"$CDK_OUTDIR/manifest.json"' "manifest.json is not JSON"
app_case "writing a manifest with no stack" \
	'mkdir -p "$CDK_OUTDIR" && echo "{\"version\":\"1\",\"artifacts\":{}}" >"$CDK_OUTDIR/manifest.json"' \
	"names no stack"
app_case "missing a template" "cp -r '$GOOD' \"\$CDK_OUTDIR\" && rm \"\$CDK_OUTDIR/$TPL\"" \
	"names $TPL, which is not in the assembly"
app_case "missing an asset" "cp -r '$GOOD' \"\$CDK_OUTDIR\" && rm \"\$CDK_OUTDIR/$ZIP\"" \
	"names $ZIP, which is not in the assembly"
app_case "writing a template that is not JSON" \
	"cp -r '$GOOD' \"\$CDK_OUTDIR\" && head -c 100 '$GOOD/$TPL' >\"\$CDK_OUTDIR/$TPL\"" "$TPL is not JSON"
app_case "writing a template that is not JSON (--no-validate)" \
	"cp -r '$GOOD' \"\$CDK_OUTDIR\" && echo 'not json' >\"\$CDK_OUTDIR/$TPL\"" "$TPL is not JSON" --no-validate
app_case "writing a template that is a JSON array" \
	"cp -r '$GOOD' \"\$CDK_OUTDIR\" && echo '[]' >\"\$CDK_OUTDIR/$TPL\"" "$TPL is not a JSON object"
synth_in "$H" --branch main -q --app "cp -r '$GOOD' \"\$CDK_OUTDIR\""
check_eq "--app writing a complete assembly: exit 0" "$RC" 0
check_eq "... and it is swapped in" "$(tree_sum "$H/cdk.out")" "$(tree_sum "$GOOD")"
check "synth --help documents exit 4 for a broken assembly" sh -c "'$SYNTH' --help | grep -q 'broken one'"

# --- concurrent runs --------------------------------------------------------
conc() { # DESC N ARGS...: N synth runs at once in $H
	local d=$1 n=$2 i bad=0
	shift 2
	local pids=()
	for ((i = 0; i < n; i++)); do
		(cd "$H" && exec "$SYNTH" "$@" 2>"$TMP/conc.$i") &
		pids+=($!)
	done
	for ((i = 0; i < n; i++)); do
		if ! wait "${pids[$i]}"; then
			bad=$((bad + 1)); diag "run $i:"; diag_file "$TMP/conc.$i"
		fi
	done
	check_eq "$d: all $n runs exit 0" "$bad" 0
	check "$d: the assembly is complete" assembly_complete "$H/cdk.out"
	check_eq "$d: nothing left behind" "$(stray "$H")" ""
	check_eq "$d: no 'Text file busy' nor 'cannot rename'" \
		"$(cat "$TMP"/conc.* | grep -c 'Text file busy\|cannot rename')" 0
}
conc "concurrent warm synths" 6 --branch main -q
echo '/* concurrent edit */' >>"$H/backend.c"
conc "concurrent synths after an edit of backend.c" 6 --branch main -q
rm -rf "$H/.synth"
conc "concurrent synths with no build cache" 4 --branch main -q
echo '/* another edit */' >>"$H/backend.c"
conc "concurrent synths, half with --no-cache" 3 --branch main -q --no-cache
# Two directories writing one --out (no shared lock): private names only.
H2=$TMP/h/hello2
copy_sample "$SYNTH_ROOT/samples/hello" "$H2"
synth_in "$H2" --branch main -q
SHARED=$TMP/shared.out
pids=()
for i in 0 1 2 3; do
	d=$H
	((i % 2)) && d=$H2
	(cd "$d" && exec "$SYNTH" --branch main -q --out "$SHARED" 2>"$TMP/sh.$i") &
	pids+=($!)
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
check_eq "two directories writing one --out at once: all exit 0" "$bad" 0
check "... the assembly is complete" assembly_complete "$SHARED"
check_eq "... nothing left beside it" "$(stray "$TMP")" ""

# --- CPPFLAGS, CFLAGS, LDFLAGS, LDLIBS ---------------------------------------
C=$TMP/flags
mkdir -p "$C/functions/f" && echo "export const handler = async () => 1;" >"$C/functions/f/index.mjs"
cat >"$C/backend.c" <<'CEOF'
#include <synth.h>
#ifndef MEMORY
#define MEMORY 128
#endif
int main(int argc, char **argv)
{
	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0)
		return synth_backend_fail(NULL);
	synth_define_function(b, "f", &(synth_function_props){.memory_mb = MEMORY});
	return synth_backend_main(b);
}
CEOF
memory() { python3 -c '
import glob, json, sys
t = json.load(open(glob.glob(sys.argv[1] + "/cdk.out/*.template.json")[0]))
print([r["Properties"]["MemorySize"] for r in t["Resources"].values() if r["Type"] == "AWS::Lambda::Function"][0])' "$C" 2>&1; }
synth_in "$C" --branch main
check_eq "flags: no flags, MemorySize 128" "$(memory)" 128
CPPFLAGS=-DMEMORY=512 synth_in "$C" --branch main
check_contains "CPPFLAGS changed: recompiled" "$ERR" "compiling backend.c"
check_eq "CPPFLAGS reach the compile (MemorySize 512)" "$(memory)" 512
CPPFLAGS=-DMEMORY=512 synth_in "$C" --branch main
check_contains "the same CPPFLAGS again: not recompiled" "$ERR" "not recompiled"
CFLAGS="-O2 -DMEMORY=1024" synth_in "$C" --branch main
check_contains "CFLAGS changed: recompiled" "$ERR" "compiling backend.c"
check_eq "CFLAGS reach the compile (MemorySize 1024)" "$(memory)" 1024
CFLAGS="-DMEMORY=256 '-DUNUSED=a b'" synth_in "$C" --branch main
check_eq "CFLAGS with a quoted word: exit 0" "$RC" 0
[ "$RC" -eq 0 ] || diag "$ERR"
check_eq "CFLAGS with a quoted word: MemorySize 256" "$(memory)" 256
CFLAGS="'-DMEMORY=256" synth_in "$C" --branch main
check_eq "CFLAGS with an unbalanced quote: exit 2" "$RC" 2
check_contains "... named" "$ERR" "\$CFLAGS has an unbalanced quote"
LDFLAGS="-Wl,-Map,$TMP/backend.map" synth_in "$C" --branch main
check_contains "LDFLAGS changed: recompiled" "$ERR" "compiling backend.c"
check "LDFLAGS reach the link (the map file it asks for)" test -s "$TMP/backend.map"
LDLIBS=-lm synth_in "$C" --branch main
check_contains "LDLIBS changed: recompiled" "$ERR" "compiling backend.c"
CFLAGS=-Werror=this-is-not-a-warning synth_in "$C" --branch main
check_eq "CFLAGS the compiler refuses: exit 3" "$RC" 3
synth_in "$C" --branch main
check_contains "no flags again: recompiled" "$ERR" "compiling backend.c"
check_eq "no flags again: MemorySize 128" "$(memory)" 128

# --- the warm path: no pkg-config, every change seen --------------------------
# A private copy of the build (synth, libsynth.a and .so, the .pc), so the
# test can "rebuild" the library; a pkg-config wrapper logs each run.
B=$TMP/b
mkdir -p "$B/bin"
cp "$SYNTH_BUILD/synth" "$SYNTH_BUILD/libsynth.so" "$SYNTH_BUILD/libsynth.a" "$B/"
cp "$SYNTH_BUILD/libsynth.so" "$B/libsynth.so.0"
# The build's own .pc (with the sanitizer flags of a SAN build), moved to $B.
sed "s|$SYNTH_BUILD|$B|g" "$SYNTH_BUILD/libsynth-uninstalled.pc" >"$B/libsynth-uninstalled.pc"
REALPC=$(command -v pkg-config)
cat >"$B/bin/pkg-config" <<SH
#!/bin/sh
echo "\$*" >>"$TMP/pkg-config.log"
exec "$REALPC" "\$@"
SH
chmod +x "$B/bin/pkg-config"
W=$TMP/warm
copy_sample "$SYNTH_ROOT/samples/todo" "$W"
old() { find "$W" -path "$W/.synth" -prune -o -path "$W/cdk.out" -prune -o -type f -exec touch -d '-1 hour' {} +; }
wsynth() { # runs the private synth in $W; LOGGED: pkg-config runs
	: >"$TMP/pkg-config.log"
	OUT=$(cd "$W" && PATH="$B/bin:$PATH" SYNTH_SPEC=$SYNTH_BUILD/cfn-spec.jsonl "$B/synth" --branch main "$@" 2>"$TMP/.stderr")
	RC=$?
	ERR=$(cat "$TMP/.stderr")
	LOGGED=$(wc -l <"$TMP/pkg-config.log" | tr -d ' ')
}
old
wsynth
check_eq "warm path: the first synth of todo: exit 0" "$RC" 0
[ "$RC" -eq 0 ] || diag "$ERR"
check_contains "warm path: the first synth compiles" "$ERR" "compiling backend.c"
# warm_soon DESC: a synth runs no pkg-config once the files are older than
# the stamp's racy window (polled, deadline 10 s); none recompiles.
warm_soon() {
	local i rec=0
	for ((i = 0; i < 100; i++)); do
		wsynth "$@"
		case $ERR in *compiling*) rec=1 ;; esac
		[ "$RC/$LOGGED" = 0/0 ] && break
		sleep 0.1
	done
	check_eq "$D: warm (exit 0, no pkg-config), never recompiled" "$RC/$LOGGED/$rec" 0/0/0
}
D="warm path: the second synth" warm_soon
check_contains "warm path: not recompiled" "$ERR" "not recompiled"
wsynth -q
check_eq "warm path: -q, exit 0 and no pkg-config" "$RC/$LOGGED" 0/0

# Each change: recompiled; then the next synth is warm again once the
# files are old.
change_case() { # DESC (the change was just made)
	wsynth
	check_contains "$1: recompiled" "$ERR" "compiling backend.c"
	old
	wsynth
	check_contains "$1, then unchanged: not recompiled" "$ERR" "not recompiled"
	D="$1, then unchanged" warm_soon
}
echo '/* edit */' >>"$W/backend.c"
change_case "an edited backend.c"
echo '/* edit */' >>"$W/todo.h"
change_case "an edited header (todo.h)"
echo '/* edit */' >>"$W/storage/resource.c"
change_case "an edited storage/resource.c"
mkdir -p "$W/extra" && printf 'int extra_unused(void);\nint extra_unused(void) { return 1; }\n' >"$W/extra/resource.c"
touch -d '-1 hour' "$W/extra/resource.c"
change_case "a new extra/resource.c (even dated an hour ago)"
cp "$SYNTH_BUILD/libsynth.so" "$B/libsynth.so.new" && mv "$B/libsynth.so.new" "$B/libsynth.so"
cp "$SYNTH_BUILD/libsynth.so" "$B/libsynth.so.new" && mv "$B/libsynth.so.new" "$B/libsynth.so.0"
cp "$SYNTH_BUILD/libsynth.a" "$B/libsynth.a.new" && mv "$B/libsynth.a.new" "$B/libsynth.a"
change_case "a rebuilt libsynth"
CC="cc -DUNUSED_CC=1" wsynth
check_contains "a changed CC: recompiled" "$ERR" "compiling backend.c"
wsynth
check_contains "CC back: recompiled" "$ERR" "compiling backend.c"
old
CFLAGS=-DUNUSED_CFLAGS wsynth
check_contains "a changed CFLAGS on the warm path: recompiled" "$ERR" "compiling backend.c"
wsynth
check_contains "CFLAGS back: recompiled" "$ERR" "compiling backend.c"
old
D="flags back" warm_soon
rm -f "$W/.synth/backend"
wsynth
check_contains "a removed .synth/backend: recompiled" "$ERR" "compiling backend.c"

# Racy edits: a change that keeps size and mtime (restored with touch -r)
# right after a synth, and one made within the same second.
old
wsynth
cp -p "$W/todo.h" "$TMP/todo.h.ref"
printf '/* aaaa */\n' >>"$W/todo.h"
wsynth
check_contains "racy: an edit just before a synth: recompiled" "$ERR" "compiling backend.c"
sed -i 's|/\* aaaa \*/|/* bbbb */|' "$W/todo.h"
touch -r "$TMP/todo.h.ref" "$W/todo.h"
wsynth
check_contains "racy: the same-size edit with the mtime put back: recompiled" "$ERR" "compiling backend.c"
printf '/* cccc */\n' >>"$W/todo.h"
wsynth
check_contains "racy: an edit right after: recompiled" "$ERR" "compiling backend.c"
wsynth
check_contains "racy: unchanged since, files still young: not recompiled" "$ERR" "not recompiled"
check "racy: ... checked by content (pkg-config ran)" test "$LOGGED" -gt 0
sed -i 's|/\* cccc \*/|/* dddd */|' "$W/todo.h"
wsynth
check_contains "racy: a same-size edit within the same second: recompiled" "$ERR" "compiling backend.c"
check "the rebuilt program has the last edit" grep -q dddd "$W/todo.h"

# A header with a space in its name (the depfile escapes it as "\ ").
S="$TMP/sp ace"
mkdir -p "$S/functions/f"
cp "$C/functions/f/index.mjs" "$S/functions/f/"
sed 's|#include <synth.h>|#include <synth.h>\n#include "my conf.h"|' "$C/backend.c" >"$S/backend.c"
echo '#define MEMORY 320' >"$S/my conf.h"
synth_in "$S" --branch main
check_eq "a header named 'my conf.h': exit 0" "$RC" 0
[ "$RC" -eq 0 ] || diag "$ERR"
check "the stamp records 'my conf.h'" grep -q ' my conf.h$' "$S/.synth/backend.stamp"
synth_in "$S" --branch main
check_contains "'my conf.h' unchanged: not recompiled" "$ERR" "not recompiled"
echo '#define MEMORY 640' >"$S/my conf.h"
synth_in "$S" --branch main
check_contains "'my conf.h' edited: recompiled" "$ERR" "compiling backend.c"
check_eq "... MemorySize 640" "$(C=$S memory)" 640

finish

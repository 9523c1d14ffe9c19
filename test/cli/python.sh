#!/usr/bin/env bash
# Python functions (test/python/app): the handler's module is checked at
# define time; requirements.txt is installed by `python3 -m pip` for the
# function's platform and Python version from a local wheel (no PyPI:
# PIP_FIND_LINKS + PIP_NO_INDEX) and merged into the zip without
# __pycache__, *.pyc, RECORD or console scripts; an unchanged
# requirements.txt runs no python at all (a failing fake python3 on PATH)
# and gives a byte-identical zip, also from another directory with a
# fresh cache; a package pip cannot find fails with pip's message naming
# the function and leaves the previous assembly and no temporary install;
# pip missing, a clash between code and packages, and index passwords.
. "$(dirname "$0")/lib/common.bash"

REAL_PY=$(command -v python3)
W=$TMP/wheels
"$REAL_PY" "$SYNTH_ROOT/test/python/make_wheel.py" "$W" >/dev/null
unset PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_REQUIRE_VIRTUALENV
export PIP_FIND_LINKS=$W PIP_NO_INDEX=1
# A python3 that logs its arguments, then runs the real one (or fails).
FAKE=$TMP/bin
mkdir -p "$FAKE"
fake_python() { # fake_python pass|fail|nopip
	case $1 in
	pass) printf '#!/bin/sh\necho "$*" >>%s/py.log\nexec %s "$@"\n' "$TMP" "$REAL_PY" ;;
	fail) printf '#!/bin/sh\necho "$*" >>%s/py.log\nexit 97\n' "$TMP" ;;
	nopip) printf '#!/bin/sh\necho "$*" >>%s/py.log\necho "%s: No module named pip" >&2\nexit 1\n' \
		"$TMP" /usr/bin/python3 ;;
	esac >"$FAKE/python3"
	chmod +x "$FAKE/python3"
}
runs() { wc -l <"$TMP/py.log" 2>/dev/null | tr -d ' ' || echo 0; }
: >"$TMP/py.log"
export PATH=$FAKE:$PATH
# zip_of DIR NAME: the zip in DIR/cdk.out holding NAME.
zip_of() { for z in "$1"/cdk.out/asset.*.zip; do zipinfo -1 "$z" 2>/dev/null | grep -qx "$2" && { echo "$z"; return; }; done; }

# --- 1. first synth: pip runs once per platform ----------------------------
A=$TMP/a/app
copy_sample "$SYNTH_ROOT/test/python/app" "$A"
mkdir -p "$A/functions/api/__pycache__"
echo stale >"$A/functions/api/__pycache__/index.cpython-312.pyc"
echo stale >"$A/functions/api/old.pyc"
fake_python pass
synth_in "$A" --branch main -q
check_eq "first synth exits 0" "$RC" 0
[ "$RC" = 0 ] || diag "$ERR"
check_eq "pip ran twice (x86_64 and arm64)" "$(grep -c '^-m pip install' "$TMP/py.log")" 2
LOG=$(cat "$TMP/py.log")
for arg in "-r functions/api/requirements.txt" "--platform manylinux2014_x86_64" \
	"--platform manylinux2014_aarch64" "--only-binary=:all:" "--python-version 3.12" \
	"--python-version 3.13" "--implementation cp" "--no-compile" "--target .synth/pip/.tmp."; do
	check_contains "pip was run with $arg" "$LOG" "$arg"
done
Z=$(zip_of "$A" index.py)
check "the api zip exists" test -n "$Z"
L=$(zipinfo -1 "$Z" 2>/dev/null)
for f in index.py requirements.txt synthdemo/__init__.py synthdemo/greet.py \
	synthdemo-1.0.dist-info/METADATA; do
	check_contains "the api zip holds $f" "$L" "$f"
done
check_not_contains "no __pycache__ in the zip" "$L" "__pycache__"
check_not_contains "no .pyc in the zip" "$L" ".pyc"
check_not_contains "no RECORD in the zip" "$L" "RECORD"
check_not_contains "no console script (bin/) in the zip" "$L" "bin/"
check_eq "entries sorted, dated 1980-01-01" \
	"$(zipinfo -T "$Z" | sed '1,2d;$d' | awk '{print $7}' | sort -u)" "19800101.000000"
check_eq "no temporary install left" "$(ls -a "$A/.synth/pip" | grep -c '^\.tmp')" 0
T=$(cat "$A"/cdk.out/*.template.json)
check_contains "handler index.handler (the default)" "$T" '"Handler": "index.handler"'
check_contains "dotted handler kept" "$T" '"Handler": "tasks.nightly.run"'
check_contains "runtime python3.12" "$T" '"Runtime": "python3.12"'
J=$(zip_of "$A" tasks/nightly.py)
check_eq "the jobs zip (no requirements) holds only its code" "$(zipinfo -1 "$J" 2>/dev/null)" "tasks/nightly.py"
if command -v unzip >/dev/null; then
	rm -rf "$TMP/x" && mkdir "$TMP/x" && (cd "$TMP/x" && unzip -q "$Z")
	check_eq "the handler imports its package from the zip" \
		"$(cd "$TMP/x" && "$REAL_PY" -c 'import index; print(index.handler({}, None)["body"])')" \
		"hello, lambda"
fi
cp "$Z" "$TMP/first.zip"

# --- 2. nothing changed: no python runs, the same bytes ---------------------
fake_python fail
: >"$TMP/py.log"
synth_in "$A" --branch main -q
check_eq "second synth (python3 fails if run) exits 0" "$RC" 0
[ "$RC" = 0 ] || diag "$ERR"
check_eq "no python3 run on the second synth" "$(runs)" 0
check "the zip is byte-identical" cmp -s "$TMP/first.zip" "$(zip_of "$A" index.py)"

# --- 3. another directory, a fresh cache: the same zip ----------------------
fake_python pass
B=$TMP/b/other/app
copy_sample "$SYNTH_ROOT/test/python/app" "$B"
synth_in "$B" --branch main -q
check_eq "synth elsewhere exits 0" "$RC" 0
check "a fresh install elsewhere gives a byte-identical zip" cmp -s "$TMP/first.zip" "$(zip_of "$B" index.py)"

# --- 4. a package pip cannot find ------------------------------------------
before=$(cd "$A/cdk.out" && ls | sort | md5sum)
echo 'nosuchpkg==9.9' >>"$A/functions/api/requirements.txt"
: >"$TMP/py.log"
synth_in "$A" --branch main -q
check "unknown package: synth fails" test "$RC" -ne 0
check_contains "the error names the function" "$ERR" "api: pip could not install functions/api/requirements.txt"
check_match "the error shows pip's message" "$ERR" "No matching distribution found for nosuchpkg|Could not find a version that satisfies the requirement nosuchpkg"
check_eq "the previous assembly is untouched" "$(cd "$A/cdk.out" && ls | sort | md5sum)" "$before"
check_eq "no temporary install left" "$(ls -a "$A/.synth/pip" | grep -c '^\.tmp')" 0
check_eq "no staging directory left" "$(ls -a "$A" | grep -c 'cdk.out.tmp\|\.tmp\.')" 0
check_eq "no cache entry for the failed requirements" "$(ls "$A/.synth/pip" | wc -l | tr -d ' ')" 2

# --- 5. an index password never reaches the message -------------------------
unset PIP_NO_INDEX PIP_FIND_LINKS
PIP_INDEX_URL=http://deploy:s3cr3tPw@127.0.0.1:9/simple PIP_RETRIES=0 PIP_DEFAULT_TIMEOUT=2 \
	synth_in "$A" --branch main -q
export PIP_FIND_LINKS=$W PIP_NO_INDEX=1
check "private index unreachable: synth fails" test "$RC" -ne 0
check_contains "private index unreachable: pip's message is shown" "$ERR" "api: pip could not install"
check_not_contains "the index password is not printed" "$ERR" "s3cr3tPw"

# --- 6. pip missing ---------------------------------------------------------
fake_python nopip
synth_in "$A" --branch main -q
check "pip missing: synth fails" test "$RC" -ne 0
check_contains "pip missing: says how to install it" "$ERR" "api: pip is not installed for python3"
check_contains "pip missing: names the Debian package" "$ERR" "python3-pip"
fake_python pass

# --- 7. handlers ------------------------------------------------------------
C=$TMP/c/app
copy_sample "$SYNTH_ROOT/test/python/app" "$C"
sed -i 's/"tasks.nightly.run"/"tasks.missing.run"/' "$C/backend.c"
synth_in "$C" --branch main -q
check "a handler naming a missing module: refused" test "$RC" -ne 0
check_contains "names the function, the module and the directory" "$ERR" \
	"jobs: handler 'tasks.missing.run' names module 'tasks.missing', but there is no tasks/missing.py"
check_contains "names the code directory" "$ERR" "'functions/jobs'"
sed -i 's/"tasks.missing.run"/"nightly"/' "$C/backend.c"
synth_in "$C" --branch main -q
check_contains "a handler without a function part: refused" "$ERR" \
	"jobs: Python handler 'nightly' is not of the form module.function"
sed -i 's/"nightly"/"tasks.night-ly.run"/' "$C/backend.c"
synth_in "$C" --branch main -q
check_contains "a module that is not an identifier: refused" "$ERR" \
	"jobs: Python handler 'tasks.night-ly.run' does not name a Python module"

# --- 8. a code file clashing with an installed one --------------------------
D=$TMP/d/app
copy_sample "$SYNTH_ROOT/test/python/app" "$D"
mkdir -p "$D/functions/api/synthdemo"
echo '# vendored' >"$D/functions/api/synthdemo/greet.py"
synth_in "$D" --branch main -q
check "code and packages overlapping: refused" test "$RC" -ne 0
check_match "the clash names the path and both directories" "$ERR" \
	"api: 'synthdemo/greet.py' is both in 'functions/api' and in '.synth/pip/[0-9a-f]{64}'"

finish

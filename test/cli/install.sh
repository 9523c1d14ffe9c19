#!/usr/bin/env bash
# `make install` into a DESTDIR: headers, both libraries, libsynth.pc and the
# binary land where they should, and a backend builds and synthesizes against
# the installed copy through pkg-config (not the build tree).
set -u
ROOT=${SYNTH_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SYNTH_BUILD:-$ROOT/build}
case "$BUILD" in *build-san) exit 0 ;; esac  # the installed pc has no sanitizer flags
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }

# PREFIX is the final location; with DESTDIR=/ it is where the files land.
PREFIX=$T/prefix
make -s -C "$ROOT" install PREFIX="$PREFIX" DESTDIR= >"$T/install.log" 2>&1
irc=$?
ok "make install succeeds (exit $irc)" '[ $irc -eq 0 ]'
for f in include/synth.h include/synth/common.h include/synth/backend.h include/synth/construct.h \
	 include/synth/value.h include/synth/function.h lib/libsynth.a lib/libsynth.so.0 lib/libsynth.so \
	 lib/pkgconfig/libsynth.pc bin/synth share/libsynth/cfn-spec.jsonl; do
	ok "installed $f" "[ -e '$PREFIX/$f' ]"
done
ok "libsynth.pc points at the prefix" "grep -q 'prefix=$PREFIX' '$PREFIX/lib/pkgconfig/libsynth.pc'"

# A staged install (DESTDIR) puts the same tree under DESTDIR.
make -s -C "$ROOT" install PREFIX=/opt/synth DESTDIR="$T/stage" >/dev/null 2>&1
ok "DESTDIR install stages under DESTDIR" "[ -f '$T/stage/opt/synth/lib/libsynth.a' ] && grep -q 'prefix=/opt/synth' '$T/stage/opt/synth/lib/pkgconfig/libsynth.pc'"

# The installed synth finds the installed library (not the build tree).
mkdir -p "$T/app/functions/f"
echo 'export const handler = async () => 1;' >"$T/app/functions/f/index.mjs"
cat >"$T/app/backend.c" <<'C'
#include <synth.h>
int main(int argc, char **argv)
{
	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0)
		return synth_backend_fail(NULL);
	synth_define_function(b, "f", &(synth_function_props){.entry = "functions/f"});
	return synth_backend_main(b);
}
C
out=$(cd "$T/app" && PKG_CONFIG_PATH= "$PREFIX/bin/synth" --branch main 2>&1)
rc=$?
ok "installed synth builds and runs a backend (exit $rc)" "[ $rc -eq 0 ]"
# libsynth.a is linked in (libsynth.pc, ARCHITECTURE.md "Linking"): the
# program loads no libsynth.so, and a newer installed library makes the
# cached program be built again.
ok "the backend loads no libsynth.so" "! ldd '$T/app/.synth/backend' | grep -q libsynth"
touch -d '+1 minute' "$PREFIX/lib/libsynth.a" "$PREFIX/lib/libsynth.so.0"
out2=$(cd "$T/app" && PKG_CONFIG_PATH= "$PREFIX/bin/synth" --branch main 2>&1)
ok "the backend links the installed library (rebuilt when it changes)" "printf '%s' \"\$out2\" | grep -q 'compiling backend.c'"
ok "the summary lists the function" "printf '%s' \"\$out\" | grep -q 'AWS::Lambda::Function'"
ok "the installed synth finds the installed specification" "! printf '%s' \"\$out\" | grep -q 'no CloudFormation specification'"

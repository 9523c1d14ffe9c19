#!/usr/bin/env bash
# make check-layers (issue #9): scripts/check-layers.sh fails when a file
# includes or calls across a forbidden arrow. First the checker itself, on
# fake trees (independent of the real tree's state): each arrow is
# reported by include and by call, allowed arrows are not; then the real
# tree, one line per rule, and the main assertion: the tree passes.
. "$(dirname "$0")/lib/common.bash"
CHECK=$SYNTH_ROOT/scripts/check-layers.sh
CC=${CC:-cc}

# run_check ARGS...: $OUT (stdout), $ERR, $RC
run_check() {
	OUT=$(bash "$CHECK" "$@" 2>"$TMP/.stderr")
	RC=$?
	ERR=$(cat "$TMP/.stderr")
}

# --- self-test 1: a copy of a construct that includes lib/core ------------
F=$TMP/fake1
mkdir -p "$F/constructs" "$F/include"
cp -r "$SYNTH_ROOT/include/." "$F/include/"
cp "$SYNTH_ROOT/constructs/schedule.c" "$F/constructs/copy.c"
run_check --root "$F" --includes-only
check_eq "self-test: an untouched copy of constructs/schedule.c passes" "$RC" 0
check_eq "self-test: ... and says so" "$OUT" "check-layers: ok"
sed -i '0,/#include <synth.h>/s||#include <synth.h>\n#include "../lib/core/internal.h"|' \
	"$F/constructs/copy.c"
check "self-test: the copy now includes ../lib/core/internal.h" \
	grep -q '^#include "../lib/core/internal.h"' "$F/constructs/copy.c"
run_check --root "$F" --includes-only
check_eq "self-test: the copy is refused (exit 1)" "$RC" 1
check_eq "self-test: the violation is reported in the documented form" "$OUT" \
	"constructs/copy.c: includes ../lib/core/internal.h from folder lib/core (forbidden: constructs -> lib/core)"
# The same through an extra file argument, in the real tree's layout.
run_check --root "$F" --includes-only constructs/copy.c
check_eq "self-test: an explicit FILE argument is checked (exit 1)" "$RC" 1
check_contains "self-test: ... naming it" "$OUT" "constructs/copy.c: includes ../lib/core/internal.h"
run_check --root "$F" --includes-only constructs/nonexistent.c
check_eq "self-test: a missing FILE is a usage error (exit 2)" "$RC" 2

# --- self-test 2: every arrow, by include ---------------------------------
F=$TMP/fake2
mkdir -p "$F/include/synth" "$F/lib/util" "$F/lib/core" "$F/lib/aws" "$F/lib/deploy" \
	"$F/constructs/data" "$F/cli"
touch "$F/include/synth.h" "$F/include/synth/construct.h" "$F/lib/util/util.h" \
	"$F/lib/core/internal.h" "$F/lib/aws/aws.h" "$F/lib/deploy/deploy.h" "$F/cli/cli.h" \
	"$F/constructs/data/gql.h" "$F/constructs/function.h"
w() { printf '%s\n' "${@:2}" >"$F/$1"; }
w lib/util/u.c '#include <stdio.h>' '#include "util.h"' '#include "../core/internal.h"' \
	'#include "../aws/aws.h"' '#include "../deploy/deploy.h"' \
	'#include "../../constructs/function.h"' '#include "../../cli/cli.h"'
w lib/core/c.c '#include "internal.h"' '#include "../util/util.h"' '#include "synth/construct.h"' \
	'#include "../../constructs/function.h"' '#include "../../cli/cli.h"' \
	'#include "../aws/aws.h"' '#include "../deploy/deploy.h"'
w lib/aws/a.c '#include "aws.h"' '#include "../util/util.h"' '#include "../core/internal.h"' \
	'#include "../deploy/deploy.h"' '#include "../../constructs/function.h"' \
	'#include "../../cli/cli.h"'
w lib/deploy/d.c '#include "deploy.h"' '#include "../aws/aws.h"' '#include "../util/util.h"' \
	'#include "../core/internal.h"' '#include "../../constructs/function.h"' \
	'#include "../../cli/cli.h"'
w constructs/data/k.c '#include <synth.h>' '#include <synth/construct.h>' '#include "gql.h"' \
	'#include "../function.h"' '#  include "../../lib/util/util.h"' \
	'#include "../../lib/core/internal.h"' '#include "../../lib/aws/aws.h"' \
	'#include "../../lib/deploy/deploy.h"' '#include "../../cli/cli.h"'
w cli/m.c '#include "synth.h"' '#include "cli.h"' '#include "../lib/core/internal.h"' \
	'#include "../lib/aws/aws.h"' '#include "../lib/deploy/deploy.h"' \
	'#include "../constructs/function.h"'
run_check --root "$F" --includes-only
check_eq "self-test: the fake tree with every arrow fails (exit 1)" "$RC" 1
expect_inc() { # FILE NAME FROM TO
	check_contains "self-test: include $3 -> $4 reported" "$OUT" \
		"$1: includes $2 from folder $4 (forbidden: $3 -> $4)"
}
for t in lib/core lib/aws lib/deploy constructs cli; do
	case $t in
	lib/*) n=../${t#lib/} ;; *) n=../../$t ;;
	esac
	case $t in lib/core) n=$n/internal.h ;; lib/aws) n=$n/aws.h ;; lib/deploy) n=$n/deploy.h ;;
	constructs) n=$n/function.h ;; cli) n=$n/cli.h ;; esac
	expect_inc lib/util/u.c "$n" lib/util "$t"
done
expect_inc lib/core/c.c ../../constructs/function.h lib/core constructs
expect_inc lib/core/c.c ../../cli/cli.h lib/core cli
expect_inc lib/core/c.c ../aws/aws.h lib/core lib/aws
expect_inc lib/core/c.c ../deploy/deploy.h lib/core lib/deploy
expect_inc lib/aws/a.c ../core/internal.h lib/aws lib/core
expect_inc lib/aws/a.c ../deploy/deploy.h lib/aws lib/deploy
expect_inc lib/aws/a.c ../../constructs/function.h lib/aws constructs
expect_inc lib/aws/a.c ../../cli/cli.h lib/aws cli
expect_inc lib/deploy/d.c ../core/internal.h lib/deploy lib/core
expect_inc lib/deploy/d.c ../../constructs/function.h lib/deploy constructs
expect_inc lib/deploy/d.c ../../cli/cli.h lib/deploy cli
expect_inc constructs/data/k.c ../../lib/util/util.h constructs lib/util
expect_inc constructs/data/k.c ../../lib/core/internal.h constructs lib/core
expect_inc constructs/data/k.c ../../lib/aws/aws.h constructs lib/aws
expect_inc constructs/data/k.c ../../lib/deploy/deploy.h constructs lib/deploy
expect_inc constructs/data/k.c ../../cli/cli.h constructs cli
check_eq "self-test: exactly the 21 forbidden includes are reported" \
	"$(printf '%s\n' "$OUT" | grep -c ': includes ')" 21
check_not_contains "self-test: the CLI may include anything" "$OUT" "cli/m.c"
check_not_contains "self-test: public and sibling headers are allowed to constructs" "$OUT" \
	"includes gql.h"
check_not_contains "self-test: constructs/data may include ../function.h (within constructs)" \
	"$OUT" "includes ../function.h"
check_not_contains "self-test: lib/deploy may include lib/aws and lib/util" "$OUT" \
	"(forbidden: lib/deploy -> lib/aws)"

# --- self-test 3: calls, from built objects --------------------------------
F=$TMP/fake3
mkdir -p "$F/include" "$F/build/obj/lib/util" "$F/build/obj/lib/core" "$F/build/obj/lib/aws" \
	"$F/build/obj/lib/deploy" "$F/build/obj/constructs/data" "$F/build/obj/cli"
printf '%s\n' 'int synth_public(void);' 'int synth_util_public(void);' >"$F/include/synth.h"
obj() { # OBJECT SOURCE-TEXT: the source at its place in the tree, and its object
	mkdir -p "$F/$(dirname "$1")"
	printf '%s\n' "$2" >"$F/${1%.o}.c"
	"$CC" -std=c11 -w -c -o "$F/build/obj/$1" "$F/${1%.o}.c"
}
obj lib/util/u.o 'int synth_util_public(void){return 0;} int synth__util_hidden(void){return 0;}
int synth_public(void); int u_calls_core(void){return synth_public();}'
obj lib/core/c.o 'int synth_util_public(void); int synth__util_hidden(void);
int synth_public(void){return synth_util_public()+synth__util_hidden();}
int synth__core_hidden(void){return 0;} int synth_core_undeclared(void){return 0;}
int synth_define_k(void); int c_calls_construct(void){return synth_define_k();}'
obj lib/aws/a.o 'int synth__aws_get(void){return 0;} int synth__core_hidden(void);
int synth_define_k(void); int a_calls(void){return synth__core_hidden()+synth_define_k();}'
obj lib/deploy/d.o 'int synth__aws_get(void); int synth_public(void);
int d_calls(void){return synth__aws_get()+synth_public();}'
obj constructs/data/k.o 'int synth_public(void); int synth__core_hidden(void);
int synth_core_undeclared(void); int synth__util_hidden(void); int synth__aws_get(void);
int synth_define_k(void){return synth_public()+synth__core_hidden()+synth_core_undeclared()
+synth__util_hidden()+synth__aws_get();}'
obj cli/m.o 'int synth__core_hidden(void); int synth__aws_get(void); int synth_define_k(void);
int main(void){return synth__core_hidden()+synth__aws_get()+synth_define_k();}'
# A stale object whose source moved away (a build directory kept across a
# reorganisation) is not the tree's: it is not reported.
obj constructs/stale.o 'int synth__core_hidden(void); int stale(void){return synth__core_hidden();}'
rm "$F/constructs/stale.c"
run_check --root "$F" --build build --calls-only
check_eq "self-test: the fake objects with forbidden calls fail (exit 1)" "$RC" 1
check_not_contains "self-test: an object without its source is not checked" "$OUT" "constructs/stale.c"
expect_call() { # FILE SYMBOL FROM TO [NOTE]
	check_contains "self-test: call $3 -> $4 ($2) reported" "$OUT" \
		"$1: calls $2 from folder $4 (forbidden: $3 -> $4${5:+ $5})"
}
expect_call lib/util/u.c synth_public lib/util lib/core
expect_call lib/core/c.c synth_define_k lib/core constructs
expect_call lib/aws/a.c synth__core_hidden lib/aws lib/core
expect_call lib/aws/a.c synth_define_k lib/aws constructs
expect_call lib/deploy/d.c synth_public lib/deploy lib/core
expect_call constructs/data/k.c synth__core_hidden constructs lib/core "internals, synth__ symbol"
expect_call constructs/data/k.c synth__util_hidden constructs lib/util "internals, synth__ symbol"
expect_call constructs/data/k.c synth_core_undeclared constructs lib/core \
	"internals, not declared in include/"
expect_call constructs/data/k.c synth__aws_get constructs lib/aws
check_eq "self-test: exactly the 9 forbidden calls are reported" \
	"$(printf '%s\n' "$OUT" | grep -c ': calls ')" 9
check_not_contains "self-test: a construct may call a public lib/core symbol" "$OUT" \
	"constructs/data/k.c: calls synth_public "
check_not_contains "self-test: lib/core may call lib/util (even synth__)" "$OUT" "lib/core/c.c: calls synth_"'util'
check_not_contains "self-test: lib/deploy may call lib/aws" "$OUT" "lib/deploy/d.c: calls synth__aws_get"
check_not_contains "self-test: the CLI may call anything" "$OUT" "cli/m.c"
run_check --root "$F" --build "$F/nowhere" --calls-only
check_eq "self-test: no build directory is a usage error (exit 2)" "$RC" 2
check_contains "self-test: ... saying to build first" "$ERR" "build first"

# --- the real tree --------------------------------------------------------
run_check --build "$SYNTH_BUILD"
real_out=$OUT real_rc=$RC
for rule in "lib/util -> lib/core" "lib/util -> lib/aws" "lib/util -> lib/deploy" \
	"lib/util -> constructs" "lib/util -> cli" \
	"lib/core -> constructs" "lib/core -> cli" "lib/core -> lib/aws" "lib/core -> lib/deploy" \
	"constructs -> lib/util" "constructs -> lib/core" "constructs -> lib/aws" \
	"constructs -> lib/deploy" "constructs -> cli" \
	"lib/aws -> lib/core" "lib/aws -> lib/deploy" "lib/aws -> constructs" "lib/aws -> cli" \
	"lib/deploy -> lib/core" "lib/deploy -> constructs" "lib/deploy -> cli"; do
	hits=$(printf '%s\n' "$real_out" | grep -F "(forbidden: $rule")
	if [ -z "$hits" ]; then
		pass "tree: nothing includes or calls across $rule"
	else
		fail "tree: nothing includes or calls across $rule"
		printf '%s\n' "$hits" | head -n 8 | sed 's/^/#     /'
	fi
done
if [ "$real_rc" -eq 0 ]; then
	pass "scripts/check-layers.sh passes on the tree"
else
	fail "scripts/check-layers.sh passes on the tree (exit $real_rc)"
	printf '%s\n' "$real_out" | head -n 20 | sed 's/^/#     /'
fi
# make check-layers runs the same checker on the build under test.
san=
is_san && san=SAN=1
make -s -C "$SYNTH_ROOT" $san check-layers >"$TMP/make.log" 2>&1
mrc=$?
if [ "$real_rc" -eq 0 ]; then
	check_eq "make check-layers passes with the checker" "$mrc" 0
else
	check "make check-layers fails with the checker (exit $mrc)" [ "$mrc" -ne 0 ]
fi
check_contains "make check-layers prints the checker's verdict" "$(cat "$TMP/make.log")" "check-layers: "
finish

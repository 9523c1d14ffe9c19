#!/usr/bin/env bash
# Memory checks with valgrind: the compiled hello backend runs clean (no
# invalid access, no definite or indirect leak), and so do backends that
# fail (at define time, while generating, while emitting) and the synth CLI
# itself. Not run on the sanitizer build (ASan and valgrind don't mix):
# then this script prints nothing.
. "$(dirname "$0")/lib/common.bash"
if is_san; then
	exit 0
fi
if ! command -v valgrind >/dev/null; then
	fail "valgrind is installed"
	finish
fi

VG=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect
	--show-leak-kinds=definite,indirect --error-exitcode=9 --track-fds=no)
CTX='{"synth:type":"branch","synth:name":"main"}'

# vg_backend DESC WANT_RC DIR: runs DIR/.synth/backend under valgrind.
vg_backend() {
	local desc=$1 want=$2 dir=$3 out rc
	out=$(cd "$dir" && CDK_OUTDIR=$dir/vg.out CDK_CONTEXT_JSON=$CTX "${VG[@]}" ./.synth/backend 2>&1)
	rc=$?
	if [ "$rc" = "$want" ]; then
		pass "$desc: valgrind-clean, exit $want"
	else
		fail "$desc: valgrind-clean, exit $want"; diag "exit $rc (9 = valgrind found errors)"
		printf '%s\n' "$out" | head -n 40 | sed 's/^/#     /'
	fi
	VG_OUT=$out
}

H=$TMP/hello
copy_sample "$SYNTH_ROOT/samples/hello" "$H"
synth_in "$H" --branch main -q
check_eq "hello: synth compiles and runs the backend" "$RC" 0
vg_backend "hello backend" 0 "$H"
if d=$(diff -r "$H/cdk.out" "$H/vg.out" 2>&1); then
	pass "hello backend under valgrind writes the same assembly as synth"
else
	fail "hello backend under valgrind writes the same assembly as synth"; diag "$d"
fi

# samples/todo: every category (auth, data with its generated schema and
# resolver modules, storage, functions).
TD=$TMP/todo
copy_sample "$SYNTH_ROOT/samples/todo" "$TD"
synth_in "$TD" --branch main -q
check_eq "todo: synth compiles and runs the backend" "$RC" 0
vg_backend "todo backend" 0 "$TD"
if d=$(diff -r "$TD/cdk.out" "$TD/vg.out" 2>&1); then
	pass "todo backend under valgrind writes the same assembly as synth"
else
	fail "todo backend under valgrind writes the same assembly as synth"; diag "$d"
fi
out=$(cd "$TD" && "${VG[@]}" "$SYNTH" --branch main --json 2>&1 >/dev/null)
rc=$?
if [ "$rc" -eq 0 ]; then
	pass "synth --json on todo (CLI, spec check of every type) is valgrind-clean"
else
	fail "synth --json on todo (CLI) is valgrind-clean"; diag "exit $rc"; printf '%s\n' "$out" | head -n 40 | sed 's/^/#     /'
fi

# The CLI itself (the backend is cached, so no compiler runs).
out=$(cd "$H" && "${VG[@]}" "$SYNTH" --branch main --json 2>&1 >/dev/null)
rc=$?
if [ "$rc" -eq 0 ]; then
	pass "synth --json (CLI) is valgrind-clean"
else
	fail "synth --json (CLI) is valgrind-clean"; diag "exit $rc"; printf '%s\n' "$out" | head -n 40 | sed 's/^/#     /'
fi

# The CLI's early exits (help, usage errors, no backend.c, a compile error)
# must not leak either: under the sanitizer build a leak turns the
# documented exit status into LeakSanitizer's.
N=$TMP/nobackend
mkdir -p "$N"
S=$TMP/syntax/app
mkdir -p "$S"
printf 'int main(void) { return ; ; x }\n' >"$S/backend.c"
vg_cli() {
	local desc=$1 want=$2 dir=$3 out rc
	shift 3
	out=$(cd "$dir" && "${VG[@]}" "$SYNTH" "$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = "$want" ]; then
		pass "synth $desc: valgrind-clean, exit $want"
	else
		fail "synth $desc: valgrind-clean, exit $want"; diag "exit $rc (9 = valgrind found errors)"
		printf '%s\n' "$out" | grep -E '^==[0-9]+== .*(lost|Invalid|uninitialised|by 0x.*main)' | head -n 8 | sed 's/^/#     /'
	fi
}
vg_cli "--help" 0 "$H" --help
vg_cli "--version" 0 "$H" --version
vg_cli "--frobnicate (unknown flag)" 2 "$H" --frobnicate
vg_cli "--branch '' (empty branch)" 2 "$H" --branch ""
vg_cli "in a directory without backend.c" 2 "$N" --branch main
vg_cli "with a backend.c that does not compile" 3 "$S" --branch main -q

# Failing backends: exit 1 with the message, and no leak.
F=$TMP/fail/app
mkdir -p "$F/functions/ok"
echo 'export const handler = async () => 1;' >"$F/functions/ok/index.mjs"
fail_case() {
	local desc=$1 needle=$2
	{
		printf '#include <synth.h>\nint main(int argc, char **argv)\n{\n\tsynth_backend *b;\n'
		printf '\tif (synth_backend_new(&b, argc, argv) < 0)\n\t\treturn synth_backend_fail(NULL);\n'
		cat
		printf '\treturn synth_backend_main(b);\n}\n'
	} >"$F/backend.c"
	synth_in "$F" --branch main -q
	check_eq "$desc: synth reports a synth error (exit 1)" "$RC" 1
	vg_backend "$desc" 1 "$F"
	check_contains "$desc: the message" "$VG_OUT" "$needle"
	check "$desc: no assembly written" test ! -e "$F/vg.out"
}
fail_case "unknown runtime" "unknown runtime" <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok"});
	synth_define_function(b, "fnB", &(synth_function_props){.entry = "functions/ok", .runtime = "cobol85"});
C
fail_case "missing code directory (fails while generating)" "does not exist" <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok", .schedule = "every day"});
	synth_define_function(b, "fnB", &(synth_function_props){.entry = "functions/nope"});
C
fail_case "resource cycle (fails while emitting)" "cycle" <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok"});
	synth_backend_add_resource(b, "A", "AWS::SNS::Topic", json_pack("{s:o}", "DisplayName", synth_getatt("B", "QueueName")));
	synth_backend_add_resource(b, "B", "AWS::SQS::Queue", json_pack("{s:o}", "QueueName", synth_getatt("A", "TopicName")));
C
fail_case "dangling reference in a nested property" "nowhere" <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok"});
	synth_backend_add_resource(b, "T", "AWS::SNS::Topic", json_pack("{s:[{s:s,s:o}]}", "Tags", "Key", "k", "Value", synth_ref("nowhere")));
	synth_backend_add_output(b, "custom", "Out", synth_ref("fnA"), NULL, NULL);
C
finish

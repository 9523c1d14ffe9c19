#!/usr/bin/env bash
# Bad input: each case must exit with the documented status (synth --help:
# 1 synth error, 2 usage, 3 compile error, 4 crash / no assembly, 5 I/O),
# print a message naming what is wrong and where, and leave no partial
# output: the previous good cdk.out stays byte-identical and no staging
# directory (*.tmp*, *.stage*) is left behind.
# SHOW_ERR=1 bash test/cli/errors.sh shows every message (as "#ERR" lines).
. "$(dirname "$0")/lib/common.bash"

W=$TMP/w/app
mkdir -p "$W/functions/ok"
echo 'export const handler = async () => "ok";' >"$W/functions/ok/index.mjs"

# backend BODY (stdin): writes backend.c = prelude + BODY + epilogue. The
# prelude is 9 lines long, so BODY's first line is line 10.
backend() {
	{
		cat <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <synth.h>

int main(int argc, char **argv)
{
	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0)
		return synth_backend_fail(NULL);
C
		cat
		printf '\treturn synth_backend_main(b);\n}\n'
	} >"$W/backend.c"
}

# The good assembly every bad case must leave alone.
backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){
		.entry = "functions/ok", .schedule = "every hour"});
C
synth_in "$W" --branch main -q
check_eq "the good backend synthesizes" "$RC" 0
[ "$RC" -eq 0 ] || diag "$ERR"
cp -a "$W/cdk.out" "$TMP/saved"
ENTRIES=$(ls -A "$W" | sort | tr '\n' ' ')

# expect DESC RC NEEDLE... [-- SYNTH ARGS...]: runs synth --branch main in
# $W (or with the given arguments) and checks the exit status, that stderr
# holds every NEEDLE (an ERE when it starts with ~), that cdk.out is
# unchanged and that nothing was left beside it.
expect() {
	local desc=$1 want=$2
	shift 2
	local needles=() args=(--branch main -q)
	while [ $# -gt 0 ]; do
		if [ "$1" = -- ]; then shift; args=("$@"); break; fi
		needles+=("$1")
		shift
	done
	synth_in "$W" "${args[@]}"
	if [ -n "${SHOW_ERR:-}" ]; then printf '%s\n' "$ERR" | sed 's|^|#ERR |'; fi
	if [ "$RC" = 0 ]; then
		# Accepted: the remaining checks would only repeat it.
		fail "$desc: refused with exit status $want"; diag "synth accepted it (exit 0)"
		rm -rf "$W/cdk.out"
		cp -a "$TMP/saved" "$W/cdk.out"
		return
	fi
	if [ "$RC" = "$want" ]; then
		pass "$desc: exit status $want"
	else
		fail "$desc: exit status $want"; diag "got exit $RC"; printf '%s\n' "$ERR" | head -n 10 | sed 's/^/#     /'
	fi
	local n
	for n in "${needles[@]}"; do
		case $n in
		~*) check_match "$desc: message matches ${n#\~}" "$ERR" "${n#\~}" ;;
		*) check_contains "$desc: message names '$n'" "$ERR" "$n" ;;
		esac
	done
	check_match "$desc: the message is reported as 'synth: error: ...'" "$ERR" '^synth: error: '
	check_not_contains "$desc: no sanitizer report" "$ERR" "Sanitizer"
	if d=$(diff -rq "$TMP/saved" "$W/cdk.out" 2>&1); then
		pass "$desc: the previous cdk.out is untouched"
	else
		fail "$desc: the previous cdk.out is untouched"; diag "$(printf '%s\n' "$d" | head -n 5)"
	fi
	check_eq "$desc: nothing left beside cdk.out" "$(ls -A "$W" | sort | tr '\n' ' ')" "$ENTRIES"
	# Restore after a failure so the next case starts from the same state.
	local s
	for s in $(stray_staging "$W"); do rm -rf "$s"; done
	rm -rf "$W/cdk.out"
	cp -a "$TMP/saved" "$W/cdk.out"
}

backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){
		.entry = "functions/ok", .runtime = "cobol85"});
C
expect "unknown runtime" 1 "fnA" "cobol85" "unknown runtime"

backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){
		.entry = "functions/ok", .runtime = "nodejs20.x"});
C
expect "deprecated runtime nodejs20.x" 1 "fnA" "nodejs20.x" "nodejs24.x"

backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok"});
	synth_define_function(b, "fnMissing", &(synth_function_props){.entry = "functions/nope"});
C
expect "missing code directory" 1 "fnMissing" "functions/nope" "does not exist"

backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok"});
	mkdir("functions/empty", 0755);
	synth_define_function(b, "fnEmpty", &(synth_function_props){.entry = "functions/empty"});
C
sed -i 's|#include <synth.h>|#include <synth.h>\n#include <sys/stat.h>|' "$W/backend.c"
expect "empty code directory" 1 "fnEmpty" "functions/empty" "no files"
rm -rf "$W/functions/empty"

backend <<'C'
	synth_define_function(b, "dup", &(synth_function_props){.entry = "functions/ok"});
	synth_define_function(b, "dup", &(synth_function_props){.entry = "functions/ok"});
C
expect "two constructs with the same name" 1 "dup" "two constructs have this name"

backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok"});
	synth_backend_add_resource(b, "dup", "AWS::SNS::Topic", NULL);
	synth_define_function(b, "dup", &(synth_function_props){.entry = "functions/ok"});
C
expect "a function and a raw resource with the same name" 1 "dup" "two constructs have this name"

backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok", .memory_mb = 64});
C
expect "memory out of range" 1 "fnA" "64"

# Props that CloudFormation or Lambda refuse must be refused at define
# time, not emitted into a template that fails to deploy (cfn-lint E3663,
# E3033, E3031; Lambda wants [a-zA-Z][a-zA-Z0-9_]+ names).
backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok",
		.environment = (const synth_env[]){{.name = "AWS_REGION", .value = "x"}, {0}}});
C
expect "a reserved environment variable name" 1 "fnA" "AWS_REGION"

backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok",
		.environment = (const synth_env[]){{.name = "1BAD-NAME", .value = "x"}, {0}}});
C
expect "an environment variable name Lambda refuses" 1 "fnA" "1BAD-NAME"

D300=$(printf 'd%.0s' {1..300})
backend <<C
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok",
		.description = "$D300"});
C
expect "a description longer than 256 characters" 1 "fnA" "description"

backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok", .handler = ""});
C
expect "an empty handler" 1 "fnA" "handler"

# Three raw resources that reference each other in a ring.
backend <<'C'
	synth_backend_add_resource(b, "TopicA", "AWS::SNS::Topic",
		json_pack("{s:o}", "DisplayName", synth_getatt("QueueB", "QueueName")));
	synth_backend_add_resource(b, "QueueB", "AWS::SQS::Queue",
		json_pack("{s:o}", "QueueName", synth_getatt("TopicC/Resource", "TopicName")));
	synth_backend_add_resource(b, "TopicC", "AWS::SNS::Topic",
		json_pack("{s:o}", "TopicName", synth_ref("TopicA")));
C
expect "dependency cycle between resources" 1 "cycle" \
	'~(TopicA/Resource -> QueueB/Resource -> TopicC/Resource -> TopicA/Resource|QueueB/Resource -> TopicC/Resource -> TopicA/Resource -> QueueB/Resource|TopicC/Resource -> TopicA/Resource -> QueueB/Resource -> TopicC/Resource)'

# A cycle through explicit DependsOn of a custom construct's resources.
backend_custom() {
	backend
	# Insert the construct classes before main().
	sed -i "/^int main/e cat $TMP/classes.c" "$W/backend.c"
}
cat >"$TMP/classes.c" <<'C'
static int need(synth_construct *self, const char *tok)
{
	synth_construct *o;
	if (!tok)
		return 0;
	return synth_construct_lookup(&o, self, tok);
}
static int gen_alpha(synth_construct *self, void *st)
{
	int rc = need(self, st);
	return rc < 0 ? rc : synth_resource_new(NULL, self, "Resource", "AWS::SNS::Topic", NULL);
}
__attribute__((unused)) static const synth_construct_class alpha_class = {SYNTH_CONSTRUCT_CLASS_VERSION, "alphakind", "tok:alpha", gen_alpha, NULL};
__attribute__((unused)) static const synth_construct_class beta_class = {SYNTH_CONSTRUCT_CLASS_VERSION, "betakind", "tok:beta", gen_alpha, NULL};
__attribute__((unused)) static const synth_construct_class gamma_class = {SYNTH_CONSTRUCT_CLASS_VERSION, "gammakind", "tok:gamma", gen_alpha, NULL};
__attribute__((unused)) static const synth_construct_class alpha2_class = {SYNTH_CONSTRUCT_CLASS_VERSION, "otherkind", "tok:alpha", gen_alpha, NULL};
static int gen_crash(synth_construct *self, void *st)
{
	(void)self; (void)st;
	abort();
}
__attribute__((unused)) static const synth_construct_class crash_class = {SYNTH_CONSTRUCT_CLASS_VERSION, "crashkind", NULL, gen_crash, NULL};

C
backend_custom <<'C'
	synth_construct_new(NULL, b, "alpha", &alpha_class, "tok:beta");
	synth_construct_new(NULL, b, "beta", &beta_class, "tok:alpha");
C
expect "dependency cycle between constructs (two)" 1 "cycle" "alpha" "beta" \
	'~alpha \(alphakind\) -> beta \(betakind\) -> alpha \(alphakind\)'

backend_custom <<'C'
	synth_construct_new(NULL, b, "alpha", &alpha_class, "tok:beta");
	synth_construct_new(NULL, b, "beta", &beta_class, "tok:gamma");
	synth_construct_new(NULL, b, "gamma", &gamma_class, "tok:alpha");
C
expect "dependency cycle between constructs (three)" 1 "cycle" \
	'~alpha \(alphakind\) -> beta \(betakind\) -> gamma \(gammakind\) -> alpha \(alphakind\)'

backend_custom <<'C'
	synth_construct_new(NULL, b, "alpha", &alpha_class, NULL);
	synth_construct_new(NULL, b, "alpha2", &alpha2_class, NULL);
C
expect "a second provider for the same token" 1 "alpha2" "'alpha'" "tok:alpha"

backend_custom <<'C'
	synth_construct_new(NULL, b, "alpha", &alpha_class, "tok:nobody");
C
expect "a lookup of a token no construct provides" 1 "alpha" "tok:nobody"

backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){
		.entry = "functions/ok", .schedule = "every blue moon"});
C
expect "a schedule that does not parse" 1 "fnA" "every blue moon"

backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){
		.entry = "functions/ok", .schedule = "cron(0 12 * * * *)"});
C
expect "a cron schedule with both day fields set" 1 "fnA" "cron(0 12 * * * *)"

backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok"});
C
expect "an empty branch name" 2 "--branch" "empty" -- --branch "" -q
expect "a branch name without a letter or digit" 2 "'///'" -- --branch "///" -q
expect "an empty namespace" 2 "--namespace" -- --branch main --namespace "" -q

backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok"});
	synth_backend_add_override(b, "ghost/Resource", "Properties.MemorySize", json_integer(1024));
C
expect "an override of a resource path that does not exist" 1 "ghost/Resource" "Properties.MemorySize"

backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok"});
	synth_backend_add_override(b, "fnA/Resource", "Tags.Foo", json_integer(1));
C
expect "an override path that is not Properties, Metadata or DeletionPolicy" 1 "fnA/Resource" "Tags.Foo"

backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok"});
	synth_backend_free(b);
	return 7;
C
expect "a backend that exits with status 7" 1 "7" "backend.c"

backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok"});
	abort();
C
expect "a backend that aborts" 4 "backend.c" "signal 6"

backend <<'C'
	synth_backend_free(b);
	return 0;
C
expect "a backend that exits 0 without writing an assembly" 4 "no assembly"

# A crash while the backend is writing its own staging directory.
backend_custom <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok"});
	synth_construct_new(NULL, b, "boom", &crash_class, NULL);
C
expect "a backend that aborts while generating (mid-synthesis)" 4 "signal 6"

# Line 11 of backend.c has an initializer without an expression.
backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok"});
	int x = ;
	(void)x;
C
expect "a syntax error" 3 '~backend\.c:11:[0-9]+: error' "did not compile"

backend <<'C'
	synth_backend_add_resource(b, "Topic", "AWS::SNS::Topic", json_pack("{s:[{s:s,s:o}]}",
		"Tags", "Key", "k", "Value", synth_ref("nowhere/Resource")));
C
expect "a reference to a path that does not exist" 1 "Topic/Resource" "Properties.Tags[0].Value" "nowhere/Resource"

backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok"});
	synth_backend_add_output(b, "custom", "Dangling", synth_getatt("ghost", "Arn"), NULL, NULL);
C
expect "an output referencing a path that does not exist" 1 "Dangling" "ghost"

backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok"});
	synth_backend_add_resource(b, "Topic", "AWS::SNS::Topic", json_pack("{s:o}",
		"TopicName", synth_param("NotDeclared")));
C
expect "a reference to an undeclared parameter" 1 "Topic/Resource" "NotDeclared"

# The output directory exists as a file: I/O error, the file untouched.
backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok"});
C
echo "not a directory" >"$W/outfile"
ENTRIES=$(ls -A "$W" | sort | tr '\n' ' ')
expect "--out names an existing file" 5 "outfile" "not a directory" -- --branch main --out outfile -q
check_eq "--out names an existing file: the file is untouched" "$(cat "$W/outfile")" "not a directory"
rm -f "$W/outfile"
ENTRIES=$(ls -A "$W" | sort | tr '\n' ' ')

# A secret name that is refused says which characters are allowed, on every
# path that refuses one: each action of `synth secret`, --shared, and the
# props of a function. The name is checked before any AWS call.
for args in "set bad/name" "get a.b" "remove 'x y'" "set --shared bad/name"; do
	eval "set -- $args"
	synth_in "$W" secret "$@" --branch main </dev/null
	check_eq "synth secret $args: exit 2" "$RC" 2
	check_contains "synth secret $args: says which characters are allowed" "$ERR" \
		"use 1 to 128 letters, digits, '-' or '_'"
done
backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok",
		.environment = (const synth_env[]){{.name = "KEY", .secret = "my.key"}, {0}}});
C
expect "a function's secret name with a '.'" 1 "fnA" "KEY" "my.key" "use 1 to 128 letters, digits, '-' or '_'"

# An environment entry with no name in the middle of the list is an error
# naming the construct and the index, not the end of the list.
backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok",
		.environment = (const synth_env[]){{.name = "AA", .value = "1"},
			{.name = NULL, .value = "2"}, {.name = "CC", .value = "3"}, {0}}});
C
expect "an environment entry without a name" 1 "fnA: environment entry 1 has a value but no name"

# A NULL handle aborts with a message naming the function and the argument
# (and the earlier error that made it NULL), not a segfault.
backend <<'C'
	synth_function *fn = synth_define_function(b, "bad name", NULL);
	synth_function_grant(fn, (const char *[]){"s3:GetObject", NULL}, json_string("*"));
C
synth_in "$W" --branch main -q
check_eq "a NULL function handle: the backend crashed (exit 4)" "$RC" 4
check_contains "a NULL function handle: names the function and the argument" "$ERR" \
	"libsynth: synth_function_grant: fn is NULL"
check_contains "a NULL function handle: and the define's error" "$ERR" "construct name 'bad name' is not valid"
if d=$(diff -rq "$TMP/saved" "$W/cdk.out" 2>&1); then
	pass "a NULL function handle: the previous cdk.out is untouched"
else
	fail "a NULL function handle: the previous cdk.out is untouched"; diag "$d"
fi
for s in $(stray_staging "$W"); do rm -rf "$s"; done

# A FIFO in a code directory is skipped with a warning naming it, not read
# (which would block the synth for ever).
mkdir -p "$W/functions/fifo"
cp "$W/functions/ok/index.mjs" "$W/functions/fifo/"
mkfifo "$W/functions/fifo/pipe"
backend <<'C'
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/fifo"});
C
synth_in "$W" --branch main -q
check_eq "a FIFO in the code directory: the synth succeeds" "$RC" 0
check_contains "a FIFO in the code directory: a warning names it" "$ERR" \
	"synth: warning: fnA: skipped functions/fifo/pipe: a FIFO"
rm -rf "$W/functions/fifo" "$W/cdk.out"
cp -a "$TMP/saved" "$W/cdk.out"
ENTRIES=$(ls -A "$W" | sort | tr '\n' ' ')

# No backend.c at all.
rm -f "$W/backend.c"
ENTRIES=$(ls -A "$W" | sort | tr '\n' ' ')
expect "no backend.c in the directory" 2 "no backend.c" "$W"

# A runtime whose block date has passed and that has no successor in the
# table must still give a usable message (no "(null)"): run the compiled
# backend directly with time() moved to 2031.
if command -v cc >/dev/null; then
	cat >"$TMP/faketime.c" <<'C'
#include <time.h>
time_t time(time_t *t) { time_t v = 1924992000; /* 2031-01-01 */ if (t) *t = v; return v; }
C
	cc -shared -fPIC -o "$TMP/faketime.so" "$TMP/faketime.c"
	for rt in dotnet9; do
		backend <<C
	synth_define_function(b, "fnA", &(synth_function_props){.entry = "functions/ok", .runtime = "$rt"});
C
		synth_in "$W" --branch main -q
		msg=$(cd "$W" && LD_PRELOAD=$TMP/faketime.so ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 \
			CDK_OUTDIR=$TMP/ft.out CDK_CONTEXT_JSON='{"synth:type":"branch","synth:name":"main"}' \
			./.synth/backend 2>&1)
		check_contains "in 2031, $rt is refused" "$msg" "$rt"
		check_not_contains "in 2031, the message for $rt is usable (no (null) for a missing successor)" "$msg" "(null)"
		rm -rf "$TMP/ft.out"*
	done
fi
finish

#!/usr/bin/env bash
# Determinism: the same input gives byte-identical assemblies whatever the
# file mtimes, permission bits (beyond the exec bit), time zone or run;
# zip entries are sorted, without directory entries, dated 1980-01-01
# 00:00, mode 0755 (executable) or 0644; .git is excluded by default;
# symlinks are followed only to files inside the code directory; one
# directory used by several functions gives one asset.
. "$(dirname "$0")/lib/common.bash"

# zip_entries ZIP: "MODE DATETIME NAME" per entry, in archive order.
zip_entries() { zipinfo -T "$1" | sed '1,2d;$d' | awk '{print $1, $7, $8}'; }

# --- 1. the same sample twice -------------------------------------------
A=$TMP/a/hello
copy_sample "$SYNTH_ROOT/samples/hello" "$A"
synth_in "$A" --branch main --out out1 -q
check_eq "hello: first synth exits 0" "$RC" 0
synth_in "$A" --branch main --out out2 -q
check_eq "hello: second synth exits 0" "$RC" 0
if d=$(diff -r "$A/out1" "$A/out2" 2>&1); then
	pass "hello: two synths give identical trees (diff -r)"
else
	fail "hello: two synths give identical trees (diff -r)"; diag "$d"
fi
synth_in "$A" --branch main --out out3 --no-cache -q
if d=$(diff -r "$A/out1" "$A/out3" 2>&1); then
	pass "hello: a synth after recompiling (--no-cache) gives an identical tree"
else
	fail "hello: a synth after recompiling (--no-cache) gives an identical tree"; diag "$d"
fi

# --- 2. mtimes, permissions, time zone ----------------------------------
# Two copies (both named hello: the namespace is the directory's name) with
# extra files: an executable, a nested directory, names whose readdir order
# is not their sorted order.
B=$TMP/b/hello
C=$TMP/c/hello
for X in "$B" "$C"; do
	copy_sample "$SYNTH_ROOT/samples/hello" "$X"
	g=$X/functions/greeter
	mkdir -p "$g/bin" "$g/lib/deep/er" "$g/a"
	printf '#!/bin/sh\necho tool\n' >"$g/bin/tool"
	printf 'data\n' >"$g/lib/deep/er/data.json"
	for nm in b.txt Z.txt a.txt A.txt a/z.txt _u.txt; do echo "$nm" >"$g/$nm"; done
done
# B: umask-ish modes, mtimes in 2001. C: private modes, mtimes in 2024.
find "$B/functions" -type f -exec chmod 644 {} + -exec touch -d '2001-02-03 04:05:06' {} +
chmod 755 "$B/functions/greeter/bin/tool"
find "$C/functions" -type f -exec chmod 600 {} +
chmod 700 "$C/functions/greeter/bin/tool"
i=0
while IFS= read -r f; do
	i=$((i + 1))
	touch -d "@$((1700000000 + i * 86413))" "$f"
done < <(find "$C/functions" -type f)
find "$C/functions" -type d -exec chmod 700 {} +
touch -d '2030-12-31 23:59:59' "$C/functions/greeter" "$C/functions/greeter/lib"

(cd "$B" && TZ=UTC "$SYNTH" --branch main --out cdk.out -q) 2>"$TMP/b.err"
rcb=$?
(cd "$C" && TZ=Asia/Tokyo "$SYNTH" --branch main --out cdk.out -q) 2>"$TMP/c.err"
rcc=$?
check_eq "mtimes/modes: synth with TZ=UTC exits 0" "$rcb" 0
check_eq "mtimes/modes: synth with TZ=Asia/Tokyo exits 0" "$rcc" 0
if d=$(diff -r "$B/cdk.out" "$C/cdk.out" 2>&1); then
	pass "different mtimes, modes (644 vs 600, 755 vs 700) and TZ give identical assemblies"
else
	fail "different mtimes, modes (644 vs 600, 755 vs 700) and TZ give identical assemblies"; diag "$d"
fi
hb=$(cd "$B/cdk.out" && sha256sum asset.*.zip)
hc=$(cd "$C/cdk.out" && sha256sum asset.*.zip)
check_eq "the zips' SHA-256 are the same in both" "$hc" "$hb"
check_match "the zip asset is named by its SHA-256" "$hb" '^([0-9a-f]{64})  asset\.\1\.zip$'

gz=$(grep -l 'bin/tool' "$C"/cdk.out/asset.*.zip 2>/dev/null | head -n1)
if [ -z "$gz" ]; then
	fail "the greeter zip holds bin/tool"
else
	pass "the greeter zip holds bin/tool"
	ent=$(zip_entries "$gz")
	names=$(zipinfo -1 "$gz")
	check_eq "zip entries are sorted bytewise (LC_ALL=C)" "$names" "$(printf '%s\n' "$names" | LC_ALL=C sort)"
	check_eq "zip has the expected entries (no directory entries)" "$(printf '%s\n' "$names" | tr '\n' ' ')" \
		"A.txt Z.txt _u.txt a.txt a/z.txt b.txt bin/tool index.mjs lib/deep/er/data.json "
	check_eq "no entry is a directory" "$(printf '%s\n' "$names" | grep '/$')" ""
	check_eq "every entry is dated 1980-01-01 00:00:00 (TZ=Asia/Tokyo run)" \
		"$(printf '%s\n' "$ent" | awk '$2 != "19800101.000000"')" ""
	check_eq "every entry is dated 1980-01-01 00:00:00 read under another TZ" \
		"$(TZ=America/Los_Angeles zipinfo -T "$gz" | sed '1,2d;$d' | awk '$7 != "19800101.000000"')" ""
	check_eq "bin/tool (0700 on disk) is 0755 in the zip" \
		"$(printf '%s\n' "$ent" | awk '$3 == "bin/tool" {print $1}')" "-rwxr-xr-x"
	check_eq "every other entry (0600 on disk) is 0644 in the zip" \
		"$(printf '%s\n' "$ent" | awk '$3 != "bin/tool" && $1 != "-rw-r--r--"')" ""
	check_eq "entries are made on Unix (external attributes carry the mode)" \
		"$(zipinfo "$gz" | sed '1,2d;$d' | awk '$3 != "unx"')" ""
	x=$TMP/x
	mkdir -p "$x" && (cd "$x" && unzip -q "$gz")
	check "unzipped bin/tool is executable" test -x "$x/bin/tool"
	check "unzipped lib/deep/er/data.json has the content" grep -qx data "$x/lib/deep/er/data.json"
fi

# --- 3. .git, symlinks, one directory for two functions ------------------
D=$TMP/d/share
mkdir -p "$D/functions/shared/.git/objects" "$D/functions/shared/sub" "$D/functions/copy" "$D/outside"
cat >"$D/backend.c" <<'C'
#include <synth.h>
int main(int argc, char **argv)
{
	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0)
		return synth_backend_fail(NULL);
	synth_define_function(b, "one", &(synth_function_props){.entry = "functions/shared"});
	synth_define_function(b, "two", &(synth_function_props){.entry = "functions/shared"});
	synth_define_function(b, "three", &(synth_function_props){.entry = "./functions/shared/"});
	return synth_backend_main(b);
}
C
echo 'export const handler = async () => 1;' >"$D/functions/shared/index.mjs"
echo 'ref: refs/heads/main' >"$D/functions/shared/.git/HEAD"
echo 'blob' >"$D/functions/shared/.git/objects/ab"
echo 'inside' >"$D/functions/shared/sub/real.txt"
echo 'secret outside' >"$D/outside/secret.txt"
ln -s ../../outside/secret.txt "$D/functions/shared/out-rel.txt"
ln -s "$D/outside/secret.txt" "$D/functions/shared/out-abs.txt"
ln -s sub/real.txt "$D/functions/shared/in-rel.txt"
ln -s "$D/functions/shared/sub/real.txt" "$D/functions/shared/in-abs.txt"
synth_in "$D" --branch main -q
check_eq "shared dir: synth exits 0" "$RC" 0
[ "$RC" -eq 0 ] || diag "$ERR"
zips=("$D"/cdk.out/asset.*.zip)
check_eq "one directory used by three functions (one spelled ./functions/shared/) gives one zip" \
	"${#zips[@]}" 1
if [ -f "${zips[0]}" ]; then
	names=$(zipinfo -1 "${zips[0]}")
	check_not_contains ".git is excluded by default" "$names" ".git"
	check_not_contains "a symlink (relative) to a file outside the directory is not in the zip" "$names" "out-rel.txt"
	check_not_contains "a symlink (absolute) to a file outside the directory is not in the zip" "$names" "out-abs.txt"
	check_contains "a symlink (relative) to a file inside the directory is in the zip" "$names" "in-rel.txt"
	check_contains "a symlink (absolute) to a file inside the directory is in the zip" "$names" "in-abs.txt"
	check_eq "the zip's entries" "$(printf '%s\n' "$names" | tr '\n' ' ')" \
		"in-abs.txt in-rel.txt index.mjs sub/real.txt "
	check_eq "a followed symlink is stored as a regular 0644 file" \
		"$(zip_entries "${zips[0]}" | awk '$3 == "in-rel.txt" {print $1}')" "-rw-r--r--"
	check_eq "a followed symlink holds the target's content" \
		"$(unzip -p "${zips[0]}" in-rel.txt)" "inside"
	check_not_contains "nothing from outside the directory is in the zip" \
		"$(unzip -p "${zips[0]}")" "secret outside"
fi
man=$(cat "$D"/cdk.out/*.assets.json 2>/dev/null)
check_eq "the asset manifest lists one zip" \
	"$(printf '%s\n' "$man" | python3 -c 'import json,sys; print(sum(1 for f in json.load(sys.stdin)["files"].values() if f["source"]["path"].endswith(".zip")))' 2>&1)" 1
keys=$(python3 - "$D"/cdk.out/*.template.json <<'P'
import json, sys
t = json.load(open(sys.argv[1]))
print(" ".join(sorted({r["Properties"]["Code"]["S3Key"] for r in t["Resources"].values()
                      if r["Type"] == "AWS::Lambda::Function"})))
P
)
check_match "the three functions use the same S3 key" "$keys" '^[0-9a-f]{64}\.zip$'

# Two directories with the same content: the same hash; the assembly must
# stay consistent (one zip file, every S3 key has its asset).
E=$TMP/e/twins
mkdir -p "$E/functions/x" "$E/functions/y"
echo 'export const handler = async () => 2;' | tee "$E/functions/x/index.mjs" >"$E/functions/y/index.mjs"
cat >"$E/backend.c" <<'C'
#include <synth.h>
int main(int argc, char **argv)
{
	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0)
		return synth_backend_fail(NULL);
	synth_define_function(b, "x", NULL);
	synth_define_function(b, "y", NULL);
	return synth_backend_main(b);
}
C
synth_in "$E" --branch main -q
check_eq "two directories with identical content: synth exits 0" "$RC" 0
zips=("$E"/cdk.out/asset.*.zip)
check_eq "two directories with identical content give one zip file" "${#zips[@]}" 1
assembly_ok "two directories with identical content: check_assembly.py accepts the assembly" "$E/cdk.out"
finish

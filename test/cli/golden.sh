#!/usr/bin/env bash
# Golden cloud assemblies: every samples/<name>/backend.c, synthesized as
# branch "main", must give exactly the files of test/golden/<name>/ (byte
# for byte: templates, manifest.json, assets.json, asset zips). Each
# assembly must also pass cfn-lint (no errors), test/spec/cfnspec.py and
# test/spec/check_assembly.py.
#
# Regenerate after an intended change (then review `git diff test/golden`):
#     UPDATE_GOLDEN=1 bash test/cli/golden.sh
# A sample without test/golden/<name>/ is still synthesized and checked;
# its byte-for-byte comparison starts once its golden directory exists.
. "$(dirname "$0")/lib/common.bash"

GOLDEN=$SYNTH_ROOT/test/golden
n=0
for src in "$SYNTH_ROOT"/samples/*/backend.c; do
	[ -f "$src" ] || continue
	sample=$(basename "$(dirname "$src")")
	n=$((n + 1))
	# The namespace is the directory's name: keep the sample's.
	work=$TMP/$n/$sample
	copy_sample "$(dirname "$src")" "$work"
	synth_in "$work" --branch main --out cdk.out -q
	if [ "$RC" -ne 0 ] || [ ! -f "$work/cdk.out/manifest.json" ]; then
		fail "$sample: synth --branch main exits 0 and writes an assembly"
		diag "exit $RC"; printf '%s\n' "$ERR" | head -n 20 | sed 's/^/#     /'
		continue
	fi
	pass "$sample: synth --branch main exits 0 and writes an assembly"
	out=$work/cdk.out

	if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
		rm -rf "${GOLDEN:?}/$sample"
		mkdir -p "$GOLDEN/$sample"
		cp -p "$out"/* "$GOLDEN/$sample/"
		echo "# updated test/golden/$sample ($(ls "$GOLDEN/$sample" | wc -l) files)"
	fi

	if [ -d "$GOLDEN/$sample" ]; then
		got=$(cd "$out" && find . -type f | sort)
		want=$(cd "$GOLDEN/$sample" && find . -type f | sort)
		if [ "$got" = "$want" ]; then
			pass "$sample: the assembly has exactly the golden files ($(printf '%s\n' "$want" | wc -l))"
		else
			fail "$sample: the assembly has exactly the golden files"
			diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | sed 's/^/#   /'
		fi
		for f in $want; do
			f=${f#./}
			if [ ! -f "$out/$f" ]; then
				fail "$sample: $f matches the golden file"; diag "missing from the assembly"
			elif cmp -s "$GOLDEN/$sample/$f" "$out/$f"; then
				pass "$sample: $f matches the golden file"
			else
				fail "$sample: $f matches the golden file"
				case $f in
				*.zip)
					diff <(zipinfo -l "$GOLDEN/$sample/$f" 2>&1) <(zipinfo -l "$out/$f" 2>&1) |
						head -n 20 | sed 's/^/#   /' ;;
				*)
					diff -u "$GOLDEN/$sample/$f" "$out/$f" | head -n 30 | sed 's/^/#   /' ;;
				esac
			fi
		done
	else
		echo "# $sample: no test/golden/$sample yet (UPDATE_GOLDEN=1 bash test/cli/golden.sh creates it)"
	fi

	templates=("$out"/*.template.json)
	if [ -f "${templates[0]}" ]; then
		pass "$sample: the assembly has templates (${#templates[@]})"
		cfn_lint_ok "$sample: cfn-lint finds no errors in ${#templates[@]} template(s)" "${templates[@]}"
		cfnspec_ok "$sample: cfnspec.py accepts every template" "${templates[@]}"
	else
		fail "$sample: the assembly has templates"
	fi
	assembly_ok "$sample: check_assembly.py accepts the cloud assembly" "$out"
	# The manifest's asset hashes are the SHA-256 of the files they name.
	bad=$(cd "$out" && for z in asset.*.zip; do
		[ -f "$z" ] || continue
		h=$(sha256sum "$z" | cut -d' ' -f1)
		[ "asset.$h.zip" = "$z" ] || echo "$z has SHA-256 $h"
	done)
	check_eq "$sample: every asset zip is named by its SHA-256" "$bad" ""
done
check_eq "at least one sample (samples/*/backend.c) was checked" "$([ $n -gt 0 ] && echo yes)" yes
# Golden directories for samples that no longer exist are stale.
for g in "$GOLDEN"/*/; do
	[ -d "$g" ] || continue
	s=$(basename "$g")
	check "test/golden/$s belongs to a sample (samples/$s/backend.c exists)" test -f "$SYNTH_ROOT/samples/$s/backend.c"
done
finish

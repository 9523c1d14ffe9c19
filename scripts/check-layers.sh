#!/usr/bin/env bash
# check-layers: the source tree's layers (ARCHITECTURE.md, the Makefile's
# folders) may depend on each other only along the allowed arrows:
#
#   lib/util    -> nothing of ours (only include/)
#   lib/core    -> lib/util
#   constructs  -> include/ only (<synth.h>, <synth/...>) and sibling
#                  headers within constructs/; at link level, lib/core and
#                  lib/util through public symbols only (declared in
#                  include/, never a synth__ symbol)
#   lib/aws     -> lib/util
#   lib/deploy  -> lib/aws, lib/util
#   cli         -> anything
#
# Two checks:
#   includes  every #include line of every .c/.h file under a layer folder,
#             resolved as the compiler would (the file's folder, then
#             include/; an explicit relative path counts even if missing)
#   calls     `nm` on the built objects ($BUILD/obj/<folder>/*.o): every
#             undefined symbol of an object that an object of a forbidden
#             folder defines
# Each violation is one line,
#   FILE: includes|calls X from folder Y (forbidden: A -> B)
# and the exit status is 1 if there is any (2 on a usage error).
#
# Usage: scripts/check-layers.sh [--root DIR] [--build DIR]
#                                [--includes-only | --calls-only] [FILE...]
#   --root DIR   the tree to check (default: this script's repository)
#   --build DIR  the build directory, relative to the root or absolute
#                (default: $BUILD, else build)
#   FILE...      check the includes of these files only (paths inside the
#                root; each belongs to the folder it is in)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD:-build}
DO_INC=1
DO_CALLS=1
FILES=()
while [ $# -gt 0 ]; do
	case $1 in
	--root) ROOT=$(cd "$2" && pwd) || exit 2; shift 2 ;;
	--build) BUILD_DIR=$2; shift 2 ;;
	--includes-only) DO_CALLS=0; shift ;;
	--calls-only) DO_INC=0; shift ;;
	-h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	--) shift; FILES+=("$@"); break ;;
	-*) echo "check-layers: unknown option $1" >&2; exit 2 ;;
	*) FILES+=("$1"); shift ;;
	esac
done
cd "$ROOT" || exit 2
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac

LAYERS="lib/util lib/core lib/aws lib/deploy constructs cli"

# The layer of a path relative to the root ("" for none; "include" for the
# public headers).
layer_of() {
	case $1 in
	include/*) echo include ;;
	lib/util/*) echo lib/util ;;
	lib/core/*) echo lib/core ;;
	lib/aws/*) echo lib/aws ;;
	lib/deploy/*) echo lib/deploy ;;
	constructs/*) echo constructs ;;
	cli/*) echo cli ;;
	*) echo "" ;;
	esac
}

# forbidden FROM TO: true when layer FROM may not depend on layer TO.
forbidden() {
	[ "$1" = "$2" ] && return 1
	case $1 in
	lib/util) case $2 in lib/core | lib/aws | lib/deploy | constructs | cli) return 0 ;; esac ;;
	lib/core) case $2 in constructs | cli | lib/aws | lib/deploy) return 0 ;; esac ;;
	lib/aws) case $2 in lib/core | lib/deploy | constructs | cli) return 0 ;; esac ;;
	lib/deploy) case $2 in lib/core | constructs | cli) return 0 ;; esac ;;
	constructs) case $2 in lib/util | lib/core | lib/aws | lib/deploy | cli) return 0 ;; esac ;;
	esac
	return 1
}

VIOLATIONS=0
violation() { echo "$1"; VIOLATIONS=$((VIOLATIONS + 1)); }

# --- includes ------------------------------------------------------------

# rel PATH: PATH (absolute, normalized) relative to the root, or "" when
# it is outside.
rel() {
	case $1 in
	"$ROOT"/*) echo "${1#"$ROOT"/}" ;;
	*) echo "" ;;
	esac
}

check_includes() { # FILE (relative to the root)
	local f=$1 from dir line kind name target to
	from=$(layer_of "$f")
	[ -n "$from" ] && [ "$from" != include ] || return 0
	dir=$(dirname "$ROOT/$f")
	while IFS= read -r line; do
		# #include "x" or #include <x> (spaces allowed after '#')
		kind=${line#*include}
		kind=${kind#"${kind%%[!	 ]*}"}
		case $kind in
		\"*) name=${kind#\"}; name=${name%%\"*}; kind=quote ;;
		\<*) name=${kind#<}; name=${name%%>*}; kind=angle ;;
		*) continue ;;
		esac
		target=""
		if [ "$kind" = quote ] && [ -e "$dir/$name" ]; then
			target=$(realpath -m "$dir/$name")
		elif [ -e "$ROOT/include/$name" ]; then
			target=$ROOT/include/$name
		elif [ "$kind" = quote ] && [ "${name#*/}" != "$name" ]; then
			# An explicit path into the tree counts even if the
			# file is missing (a fake tree, a deleted header).
			target=$(realpath -m "$dir/$name")
		fi
		[ -n "$target" ] || continue # a system header
		target=$(rel "$target")
		[ -n "$target" ] || continue
		to=$(layer_of "$target")
		[ -n "$to" ] || continue
		if forbidden "$from" "$to"; then
			violation "$f: includes $name from folder $to (forbidden: $from -> $to)"
		fi
	done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]' "$ROOT/$f" 2>/dev/null)
}

if [ "$DO_INC" = 1 ]; then
	if [ ${#FILES[@]} -eq 0 ]; then
		for l in $LAYERS; do
			[ -d "$l" ] || continue
			while IFS= read -r f; do FILES+=("$f"); done \
				< <(find "$l" -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)
		done
	fi
	for f in ${FILES[@]+"${FILES[@]}"}; do
		case $f in /*) f=$(rel "$(realpath -m "$f")") ;; esac
		if [ -z "$f" ] || [ ! -f "$ROOT/$f" ]; then
			echo "check-layers: ${f:-file outside the root}: no such file in $ROOT" >&2
			exit 2
		fi
		check_includes "$f"
	done
fi

# --- calls -----------------------------------------------------------------

if [ "$DO_CALLS" = 1 ]; then
	OBJ=$BUILD_DIR/obj
	if [ ! -d "$OBJ" ]; then
		echo "check-layers: no objects in $OBJ: build first (make all)" >&2
		exit 2
	fi
	command -v nm >/dev/null || { echo "check-layers: nm not found" >&2; exit 2; }
	TMPD=$(mktemp -d)
	trap 'rm -rf "$TMPD"' EXIT
	# Every object, with its layer: "layer<TAB>object".
	for l in $LAYERS; do
		[ -d "$OBJ/$l" ] || continue
		# Only objects of sources that exist: a build directory kept across
		# a reorganisation holds objects of files that moved away.
		find "$OBJ/$l" -type f -name '*.o' | LC_ALL=C sort | while read -r o; do
			src=${o#"$OBJ"/}
			[ -f "${src%.o}.c" ] && printf '%s\t%s\n' "$l" "$o"
		done
	done >"$TMPD/objs"
	# Global definitions: "symbol<TAB>layer"; references: "object<TAB>layer<TAB>symbol".
	while IFS='	' read -r l o; do
		nm -P --defined-only "$o" 2>/dev/null |
			awk -v l="$l" '$2 ~ /^[A-TV-Z]$/ { print $1 "\t" l }' >>"$TMPD/defs"
		nm -P -u "$o" 2>/dev/null | awk -v l="$l" -v o="$o" '{ print o "\t" l "\t" $1 }' >>"$TMPD/refs"
	done <"$TMPD/objs"
	touch "$TMPD/defs" "$TMPD/refs"
	# The public API: every identifier in include/ (a symbol a construct
	# may use from lib/core or lib/util must be declared there).
	if [ -d include ]; then
		cat $(find include -type f -name '*.h') 2>/dev/null |
			grep -oE '\b[A-Za-z_][A-Za-z0-9_]*\b' | LC_ALL=C sort -u >"$TMPD/public"
	else
		: >"$TMPD/public"
	fi
	# Join references with the folder that defines them (first definer
	# wins; a symbol defined twice would not link anyway).
	awk -F'\t' -v OFS='\t' '
		FILENAME == ARGV[1] { if (!($1 in def)) def[$1] = $2; next }
		FILENAME == ARGV[2] { pub[$1] = 1; next }
		($3 in def) { print $1, $2, $3, def[$3], (($3 in pub) ? "public" : "private") }
	' "$TMPD/defs" "$TMPD/public" "$TMPD/refs" >"$TMPD/joined"
	while IFS='	' read -r o from sym to vis; do
		src=${o#"$OBJ"/}
		src=${src%.o}.c
		if [ "$from" = constructs ] && { [ "$to" = lib/core ] || [ "$to" = lib/util ]; }; then
			# Allowed through the public API only.
			case $sym in
			synth__*) violation "$src: calls $sym from folder $to (forbidden: constructs -> $to internals, synth__ symbol)" ;;
			*) [ "$vis" = public ] ||
				violation "$src: calls $sym from folder $to (forbidden: constructs -> $to internals, not declared in include/)" ;;
			esac
		elif forbidden "$from" "$to"; then
			violation "$src: calls $sym from folder $to (forbidden: $from -> $to)"
		fi
	done <"$TMPD/joined"
fi

if [ "$VIOLATIONS" -gt 0 ]; then
	echo "check-layers: $VIOLATIONS violation(s)" >&2
	exit 1
fi
echo "check-layers: ok"

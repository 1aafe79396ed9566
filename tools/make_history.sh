#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Regenerate the stored schema history, schemas/history/vN.json, from the old
# releases' schema sources kept in tools/history/vN/ (they cannot live under
# schemas/: `kstate compile schemas` would compile them too).
#
# Each release is compiled from a temporary folder that holds it as
# `schemas/`, as it was when that release was current; the snapshot names
# files relative to that schema root (`memfd.kstate`), like every snapshot
# kstate compile writes. The output is deterministic.
#
# Usage: tools/make_history.sh [--check] [vN ...]
#   --check   write nothing; exit 1 naming each snapshot that is stale.
#   vN        releases to rebuild (default: every folder in tools/history/).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
check=0
if [ "${1:-}" = "--check" ]; then
	check=1
	shift
fi
if [ $# -eq 0 ]; then
	set -- $(cd "$root/tools/history" && ls -d v[0-9]* | sort -V)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

status=0
for rel in "$@"; do
	src="$root/tools/history/$rel"
	if [ ! -d "$src" ]; then
		echo "make_history: no such release: $src" >&2
		exit 2
	fi
	work="$tmp/$rel"
	mkdir -p "$work"
	cp -R "$src" "$work/schemas"
	(cd "$work" && PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" \
		"$python" -m kstate compile schemas --lang json -o out)
	dest="$root/schemas/history/$rel.json"
	if [ $check -eq 1 ]; then
		if ! cmp -s "$work/out/kstate-snapshot.json" "$dest"; then
			echo "stale: schemas/history/$rel.json (run tools/make_history.sh $rel)"
			status=1
		fi
	else
		mkdir -p "$root/schemas/history"
		cp "$work/out/kstate-snapshot.json" "$dest"
		echo "wrote schemas/history/$rel.json"
	fi
done
exit $status

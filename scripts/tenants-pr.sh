#!/usr/bin/env bash
# The pull-request check of the tenants file, as .github/workflows/tenants-pr.yml runs it:
#   scripts/tenants-pr.sh BASE_SHA HEAD_DIR > comment.md
# For every Pulumi.<stack>.yaml that differs between BASE_SHA (this checkout: the base
# branch's code, which is trusted) and HEAD_DIR (the pull request's checkout, of which only
# the stack files are read, never run): `check:tenants` of the head file, then the preview of
# the tenants it touches (one stack per tenant, scripts/fleet.ts). Markdown on stdout.
# Exit 1 when a file is invalid or a preview failed. Needs `npm run build` done.
set -euo pipefail

BASE_SHA="${1:?usage: tenants-pr.sh BASE_SHA HEAD_DIR}"
HEAD_DIR="${2:?usage: tenants-pr.sh BASE_SHA HEAD_DIR}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$REPO"

# Stack files named in either tree that differ; a name must be a valid stack name (file names are
# the pull request's: they are matched, never evaluated).
mapfile -t FILES < <( { git ls-tree --name-only "$BASE_SHA" -- . ; (cd "$HEAD_DIR" && ls -1); } \
  | grep -E '^Pulumi\.[A-Za-z0-9_.-]+\.yaml$' | sort -u)

status=0
changed=0
for file in "${FILES[@]}"; do
  stack="${file#Pulumi.}"; stack="${stack%.yaml}"
  git show "$BASE_SHA:$file" >"$WORK/base.yaml" 2>/dev/null || : >"$WORK/base.yaml"
  if [[ ! -f "$HEAD_DIR/$file" ]]; then
    [[ -s "$WORK/base.yaml" ]] || continue
    changed=1
    printf '### `%s` is removed by this pull request\n\nIts tenants are not retired by a file removal: empty its tenants list first.\n\n' "$file"
    status=1
    continue
  fi
  cmp -s "$WORK/base.yaml" "$HEAD_DIR/$file" && continue
  changed=1
  # The trusted code reads the pull request's file in place of the base branch's.
  cp "$HEAD_DIR/$file" "$REPO/$file"
  printf '## `%s`\n\n' "$file"
  if check="$(node dist/tenants/check-cli.js --stack "$stack" 2>&1)"; then
    printf '<details><summary>check:tenants: valid</summary>\n\n```\n%s\n```\n</details>\n\n' "$check"
  else
    printf '**check:tenants: invalid, nothing previewed**\n\n```\n%s\n```\n\n' "$check"
    status=1
    continue
  fi
  node dist/scripts/fleet.js preview --stack "$stack" --base "$WORK/base.yaml" || status=1
  printf '\n\n'
done
[[ $changed -eq 1 ]] || printf 'No `Pulumi.*.yaml` differs from the base branch: nothing to preview.\n'
exit "$status"

/**
 * The git commands behind project history, as POSIX shell scripts run with `sh -c SCRIPT kiln-git ARGS…`.
 * Scripts are constants; every value (commit ids, messages, limits) reaches them as a positional argument
 * or an environment variable, never spliced into the text, so nothing a caller passes is parsed as shell.
 * One script per operation, so an operation costs one sandbox launch rather than one per git command.
 *
 * The repository is project-writable (sandboxed code owns `.git`), so its config, hooks and attributes are
 * hostile: everything in git that can run a program or redirect where git reads and writes is overridden
 * on the command line (which wins over the repository's config), and filter drivers — which the config
 * names freely — are blanked one by one through GIT_CONFIG_COUNT.
 */

/** `-c` settings on every git command. Command-line config outranks the repository's own. */
export const GIT_OVERRIDES: readonly string[] = [
  // Programs git would run: hooks (post-index-change, reference-transaction…), fsmonitor, pagers, editors,
  // credential and ssh helpers, external diff, signing.
  "core.hooksPath=/dev/null",
  "core.fsmonitor=false",
  "core.pager=cat",
  "core.editor=:",
  "sequence.editor=:",
  "core.askPass=",
  "credential.helper=",
  "core.sshCommand=false",
  "diff.external=",
  "commit.gpgSign=false",
  "tag.gpgSign=false",
  "log.showSignature=false",
  "gc.auto=0",
  "maintenance.auto=false",
  "submodule.recurse=false",
  // No transport at all: a "promisor" (partial clone) repository would otherwise fetch missing objects.
  "protocol.allow=never",
  // Files git would read from elsewhere, or write with other modes or line endings.
  "core.attributesFile=/dev/null",
  "core.excludesFile=/dev/null",
  "core.bare=false",
  "core.sharedRepository=umask",
  "core.symlinks=true",
  "core.autocrlf=false",
  "core.safecrlf=false",
  // Output that our parsers read must keep its documented shape.
  "color.ui=false",
  "core.quotePath=true",
  "log.showRoot=true",
  "log.decorate=false",
  "log.mailmap=false",
  "diff.noprefix=false",
  "diff.mnemonicPrefix=false",
  "diff.relative=false",
  "diff.orderFile=/dev/null",
  "diff.interHunkContext=0",
  "diff.suppressBlankEmpty=false",
  "diff.submodule=short",
  "i18n.logOutputEncoding=UTF-8",
  "i18n.commitEncoding=UTF-8",
];

/** Paths never saved in a checkpoint, whatever `.gitignore` says (the template's one ignores them too). */
export const EXCLUDED_PATHSPECS: readonly string[] = [
  ":(exclude,glob)**/node_modules/**",
  ":(exclude,glob)**/.kiln/**",
];

/** Exit codes the scripts use to say what went wrong; anything else is a git failure. */
export const EXIT = { notFound: 44, dirty: 45, noRepository: 46, conflict: 47 } as const;

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * Shell: exits with EXIT.noRepository unless `.git` in the current directory is a real directory (a gitfile
 * or symlink named .git would send git to another repository), then blanks every filter driver the
 * repository's config names. Shared with git over HTTP (git/script.ts).
 */
export const CHECK_REPOSITORY_AND_BLANK_FILTERS = `
if [ ! -d .git ] || [ -L .git ]; then echo "the project has no git repository" >&2; exit ${EXIT.noRepository}; fi
n=0
filters=$(git config --name-only --get-regexp '^filter[.]' 2>/dev/null) || true
while IFS= read -r key; do
  case "$key" in
    *.required) value=false ;;
    *.clean|*.smudge|*.process) value= ;;
    *) continue ;;
  esac
  eval "GIT_CONFIG_KEY_$n=\\$key; GIT_CONFIG_VALUE_$n=\\$value; export GIT_CONFIG_KEY_$n GIT_CONFIG_VALUE_$n"
  n=$((n + 1))
done <<KILN_EOF
$filters
KILN_EOF
export GIT_CONFIG_COUNT=$n
`;

/**
 * Shell every script starts with: a real `.git` here, filters blanked, and `g` (git with the overrides), `save`
 * (stage all but the excluded paths and commit on HEAD) and friends. Also the worker's (worker/workspace-git.ts).
 */
export const PRELUDE = `
set -u
export GIT_DIR=.git GIT_WORK_TREE=.
${CHECK_REPOSITORY_AND_BLANK_FILTERS}
g() {
  git --no-pager -c "safe.directory=$PWD" ${GIT_OVERRIDES.map((o) => `-c ${shellQuote(o)}`).join(" ")} "$@"
}
excluded() {
  printf '%s\\n' ${EXCLUDED_PATHSPECS.map(shellQuote).join(" ")}
}
# Separates the sections of a script's output; KILN_NONCE is random per call, so no file name or commit
# message can forge one.
section() { printf '%s%s\\n' "$KILN_NONCE" "$1"; }
record() { g log -1 --no-notes --shortstat --format="$KILN_FORMAT" "$1" --; }
# Stages everything (but the excluded paths) and commits it on the current branch; prints the new commit.
save() {
  g add --all -- . ${EXCLUDED_PATHSPECS.map(shellQuote).join(" ")} || return 1
  tree=$(g write-tree) || return 1
  parent=$(g rev-parse -q --verify 'HEAD^{commit}') || parent=
  if [ -n "$parent" ]; then
    [ "$tree" = "$(g rev-parse "$parent^{tree}")" ] && return 0
    commit=$(g commit-tree "$tree" -p "$parent" -m "$1") || return 1
  else
    commit=$(g commit-tree "$tree" -m "$1") || return 1
  fi
  # Compare-and-swap: an empty old value means "must not exist yet".
  g update-ref -m "kiln: $2" HEAD "$commit" "$parent" || return 1
  echo "$commit"
}
dirty() {
  [ -n "$(GIT_OPTIONAL_LOCKS=0 g status --porcelain --untracked-files=all --ignore-submodules=dirty -- . ${EXCLUDED_PATHSPECS.map(shellQuote).join(" ")})" ]
}
# A commit id that names a commit on the current branch's history, or exit "not found".
resolve() {
  found=$(g rev-parse -q --verify --end-of-options "$1^{commit}") || exit ${EXIT.notFound}
  g merge-base --is-ancestor "$found" HEAD || exit ${EXIT.notFound}
  echo "$found"
}
`;

/** Env: KILN_MESSAGE, KILN_FORMAT, KILN_NONCE. Prints the new checkpoint's log record, or nothing. */
export const CHECKPOINT_SCRIPT = `${PRELUDE}
commit=$(save "$KILN_MESSAGE" checkpoint) || exit 1
[ -z "$commit" ] || record "$commit"
`;

/** Env: KILN_FORMAT, KILN_LIMIT, KILN_BEFORE (may be empty). */
export const LIST_SCRIPT = `${PRELUDE}
g rev-parse -q --verify 'HEAD^{commit}' >/dev/null || exit 0
start=HEAD
skip=0
if [ -n "$KILN_BEFORE" ]; then start=$(resolve "$KILN_BEFORE") || exit $?; skip=1; fi
g log --first-parent --diff-merges=first-parent --no-notes --shortstat --format="$KILN_FORMAT" \\
  --skip="$skip" -n "$KILN_LIMIT" "$start" --
`;

/**
 * $1: commit. Env: KILN_NONCE, KILN_MAX_BYTES. Prints `<nonce>commit <sha> <parent or ->` and then the raw
 * listing, numstat and patch of the commit against its first parent (or the empty tree), capped in bytes.
 */
export const DIFF_SCRIPT = `${PRELUDE}
sha=$(resolve "$1") || exit $?
parent=$(g rev-parse -q --verify "$sha^1") || parent=
section "commit $sha \${parent:--}"
base=\${parent:-$(g hash-object -t tree /dev/null)}
g diff-tree -r -z -M --raw --numstat -p --no-ext-diff --no-textconv --no-color -U3 "$base" "$sha" -- \\
  | head -c "$KILN_MAX_BYTES"
`;

/**
 * $1: target commit. Env: KILN_FORCE (1 or 0), KILN_SAVE_MESSAGE, KILN_MESSAGE (the restore commit's; its
 * Kiln-Restore trailer is added here), KILN_FORMAT, KILN_NONCE.
 * Sections: `target <sha>`, `saved` (uncommitted changes checkpointed first), `changes` (name-status -z of what the restore
 * changes), `restored` (the new commit). Never moves history backwards: the old tree becomes a new commit.
 */
export const RESTORE_SCRIPT = `${PRELUDE}
target=$(resolve "$1") || exit $?
section "target $target"
if dirty; then
  [ "$KILN_FORCE" = 1 ] || exit ${EXIT.dirty}
  saved=$(save "$KILN_SAVE_MESSAGE" "checkpoint before restore") || exit 1
  section saved
  [ -z "$saved" ] || record "$saved"
fi
head=$(g rev-parse --verify 'HEAD^{commit}') || exit 1
section changes
g diff-tree -r -z --no-renames --name-status "$head" "$target" -- || exit 1
# One-way merge onto the index: files tracked now but absent from the target are removed from disk.
g read-tree --reset -u "$target" || exit 1
tree=$(g rev-parse "$target^{tree}") || exit 1
if [ "$tree" != "$(g rev-parse "$head^{tree}")" ]; then
  commit=$(g commit-tree "$tree" -p "$head" -m "$KILN_MESSAGE

Kiln-Restore: $target") || exit 1
  g update-ref -m "kiln: restore" HEAD "$commit" "$head" || exit 1
  section restored
  record "$commit"
fi
`;

/** $1: message id (checked by the caller: [A-Za-z0-9_-]). Env: KILN_FORMAT. Oldest match last. */
export const FIND_MESSAGE_SCRIPT = `${PRELUDE}
g rev-parse -q --verify 'HEAD^{commit}' >/dev/null || exit 0
g log --first-parent --no-notes --fixed-strings --grep="Kiln-Message: $1" --format="$KILN_FORMAT" HEAD --
`;

/** $1: a branch name (checked by the caller). Env: KILN_NONCE, KILN_MAX_BYTES. The branch against its merge base. */
export const BRANCH_DIFF_SCRIPT = `${PRELUDE}
head=$(g rev-parse -q --verify "refs/heads/$1^{commit}") || exit ${EXIT.notFound}
base=$(g merge-base HEAD "$head") || exit 1
section "commit $head $base"
g diff-tree -r -z -M --raw --numstat -p --no-ext-diff --no-textconv --no-color -U3 "$base" "$head" -- \\
  | head -c "$KILN_MAX_BYTES"
`;

/**
 * $1: a branch name (checked by the caller). Env: KILN_MESSAGE, KILN_SAVE_MESSAGE, KILN_FORMAT, KILN_NONCE.
 * Merges the branch into the checked-out one with a merge commit, computed in the object store first
 * (merge-tree), so a conflict leaves nothing half-merged on disk (exit EXIT.conflict). Uncommitted changes
 * are saved as a checkpoint first. Sections: `saved`, `changes` (name-status -z), `merged`.
 */
export const MERGE_SCRIPT = `${PRELUDE}
theirs=$(g rev-parse -q --verify "refs/heads/$1^{commit}") || exit ${EXIT.notFound}
if dirty; then
  saved=$(save "$KILN_SAVE_MESSAGE" "checkpoint before merge") || exit 1
  section saved
  [ -z "$saved" ] || record "$saved"
fi
head=$(g rev-parse --verify 'HEAD^{commit}') || exit 1
g merge-base --is-ancestor "$theirs" "$head" && exit 0
out=$(g merge-tree --write-tree --no-messages "$head" "$theirs") || exit ${EXIT.conflict}
tree=$(printf '%s\\n' "$out" | head -n 1)
commit=$(g commit-tree "$tree" -p "$head" -p "$theirs" -m "$KILN_MESSAGE") || exit 1
section changes
g diff-tree -r -z --no-renames --name-status "$head" "$commit" -- || exit 1
# The index may hold another writer's stat data (a new project's first commit is written before the tree is
# handed to the project's uid; \`dirty\` does not write the index back), and read-tree -m takes any stat
# mismatch for a change ("not uptodate"). Refresh it first; a file that really changed still stops the merge.
g update-index -q --refresh >/dev/null
g read-tree -m -u "$head" "$commit" || exit 1
g update-ref -m "kiln: merge" HEAD "$commit" "$head" || exit 1
section merged
record "$commit"
`;

/**
 * $1: where to write the bundle (relative, inside `.kiln/`). The whole history (every ref and HEAD) as one
 * git bundle, for a project's export; exits EXIT.notFound when there is no commit yet.
 */
export const BUNDLE_SCRIPT = `${PRELUDE}
g rev-parse -q --verify 'HEAD^{commit}' >/dev/null || exit ${EXIT.notFound}
mkdir -p .kiln || exit 1
g bundle create -q "$1" --all
`;

/**
 * $1: a git bundle in the working tree to restore history from, or empty. Env: KILN_MESSAGE, KILN_FORMAT,
 * KILN_NONCE. An imported project's repository: `git init` on `main`, the bundle's HEAD fetched as `main`
 * (a bundle is read over git's `file` transport, allowed for this one fetch of this one path)
 * (then the bundle file removed) when it is a valid bundle, and the files as they are checkpointed on top.
 * Prints `<nonce>history restored|none|kept` and the checkpoint's record, if one was made.
 */
export const IMPORT_SCRIPT = `
set -u
if [ -e .git ] || [ -L .git ]; then echo "the project already has a .git" >&2; exit 1; fi
git -c init.templateDir= init -q -b main . >/dev/null || exit 1
${PRELUDE}
history=none
if [ -n "$1" ]; then
  history=kept
  if g bundle verify -q "$1" >/dev/null 2>&1 \\
    && g -c protocol.file.allow=always fetch -q --no-tags --update-head-ok "$1" '+HEAD:refs/heads/main' \\
      >/dev/null 2>&1; then
    g reset -q || exit 1
    rm -f -- "$1"
    history=restored
  fi
fi
section "history $history"
commit=$(save "$KILN_MESSAGE" import) || exit 1
[ -n "$commit" ] && record "$commit"
exit 0
`;

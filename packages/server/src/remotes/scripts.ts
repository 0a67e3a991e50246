import { EXIT, PRELUDE } from "../history/git-shell.ts";

/**
 * The shell scripts of git with hosts outside Kiln (ADR 0025), run with `sh -c SCRIPT kiln-remote`; every
 * value reaches them through the environment, never spliced into the text.
 *
 * Network scripts run in a sandbox whose /workspace is a directory of Kiln's own (never a project's), on a
 * repository they make in the sandbox's fresh /tmp: no tenant-written config, hook or attribute is ever read
 * there, and the token (GIT_CONFIG_COUNT, http.extraHeader) exists only in that sandbox. Workspace scripts
 * run in the project's sandbox without network or credentials, and exchange objects with the network ones
 * through bundles in a read-only mount.
 */

/** Where a transfer's private input directory (CA bundle, bundles) is mounted read-only. */
export const IN_MOUNT = "/kiln-in";
export const FETCH_BUNDLE = "fetch.bundle";
export const PUSH_BUNDLE = "push.bundle";
/** Exit codes of these scripts besides history's (EXIT). */
export const REMOTE_EXIT = { tooLarge: 48, noBranch: 49, rejected: 50, noRefs: 51, empty: 52 } as const;

/** `-c` settings of every network git: nothing runs, nothing is read from elsewhere, https only, no redirect. */
const NETWORK_OVERRIDES = [
  "core.hooksPath=/dev/null",
  "core.fsmonitor=false",
  "core.askPass=",
  "credential.helper=",
  "core.sshCommand=false",
  "protocol.allow=never",
  "protocol.https.allow=always",
  // A redirect could lead anywhere: the address Kiln checked is the one git talks to.
  "http.followRedirects=false",
  "submodule.recurse=false",
  "fetch.recurseSubmodules=false",
  "gc.auto=0",
  "maintenance.auto=false",
  "init.templateDir=",
];

const NETWORK_PRELUDE = `
set -u
cd /tmp || exit 1
git -c init.templateDir= init -q --bare r >/dev/null || exit 1
export GIT_DIR=/tmp/r
g() { git --no-pager ${NETWORK_OVERRIDES.map((o) => `-c '${o}'`).join(" ")} "$@"; }
section() { printf '%s%s\\n' "$KILN_NONCE" "$1"; }
valid_branch() {
  case "$1" in ""|-*|.*|/*|*..*|*//*|*/|*.lock|*[!A-Za-z0-9._/-]*) return 1 ;; esac
  [ \${#1} -le 200 ]
}
`;

/**
 * Env: KILN_URL, KILN_BRANCH (empty: the remote's default), KILN_MAX_KB, KILN_NONCE. Fetches the branch into
 * a new repository, bundles it as /workspace/fetch.bundle and prints sections `branch <name>`, `commit <sha>`,
 * `files` (the root's names, NUL-separated) and `package` (package.json, capped).
 */
export const FETCH_SCRIPT = `${NETWORK_PRELUDE}
branch=$KILN_BRANCH
if [ -z "$branch" ]; then
  head=$(GIT_TRACE_PACKET=/tmp/kiln-packets g ls-remote --symref -- "$KILN_URL" HEAD) || exit 1
  if [ -z "$head" ]; then
    # An empty repository still speaks git's protocol; a web page read as a "dumb" repository does not.
    if grep -q 'git<' /tmp/kiln-packets 2>/dev/null; then echo "the repository is empty" >&2; exit ${REMOTE_EXIT.empty}; fi
    echo "no branches there: not a git repository" >&2; exit ${REMOTE_EXIT.noRefs}
  fi
  branch=$(printf '%s\\n' "$head" | sed -n 's|^ref: refs/heads/\\([^\t]*\\)\tHEAD$|\\1|p' | head -n 1)
  if [ -z "$branch" ]; then echo "the repository has no default branch (is it empty?)" >&2; exit ${REMOTE_EXIT.noBranch}; fi
fi
valid_branch "$branch" || { echo "the remote's branch has an unexpected name" >&2; exit ${REMOTE_EXIT.noBranch}; }
g fetch -q --no-tags --no-write-fetch-head -- "$KILN_URL" "+refs/heads/$branch:refs/heads/$branch" || exit 1
kb=$(du -sk /tmp/r | cut -f1)
[ "$kb" -le "$KILN_MAX_KB" ] || exit ${REMOTE_EXIT.tooLarge}
commit=$(g rev-parse --verify "refs/heads/$branch^{commit}") || exit 1
g bundle create -q /workspace/${FETCH_BUNDLE} "refs/heads/$branch" || exit 1
section "branch $branch"
section "commit $commit"
section files
g ls-tree -z --name-only "$commit" --
section package
g cat-file blob "$commit:package.json" 2>/dev/null | head -c 1048576
exit 0
`;

/**
 * Env: KILN_URL, KILN_BRANCH (the remote branch), KILN_NONCE. Pushes refs/kiln/push of /kiln-in/push.bundle
 * to the branch, never forced; prints git's porcelain report. A rejection exits REMOTE_EXIT.rejected.
 */
export const PUSH_SCRIPT = `${NETWORK_PRELUDE}
valid_branch "$KILN_BRANCH" || exit ${REMOTE_EXIT.noBranch}
g -c protocol.file.allow=always fetch -q --no-tags --no-write-fetch-head ${IN_MOUNT}/${PUSH_BUNDLE} \\
  '+refs/kiln/push:refs/kiln/push' || exit 1
out=$(g push --porcelain -- "$KILN_URL" "refs/kiln/push:refs/heads/$KILN_BRANCH")
rc=$?
printf '%s\\n' "$out"
if printf '%s\\n' "$out" | grep -q '^!'; then exit ${REMOTE_EXIT.rejected}; fi
exit $rc
`;

/** Shell: fetches the transfer's bundle into the workspace as refs/remotes/kiln-remote/$KILN_BRANCH. */
const TAKE_FETCHED = `
g -c protocol.file.allow=always fetch -q --no-tags --no-write-fetch-head ${IN_MOUNT}/${FETCH_BUNDLE} \\
  "+refs/heads/$KILN_BRANCH:refs/remotes/kiln-remote/$KILN_BRANCH" || exit 1
theirs=$(g rev-parse --verify "refs/remotes/kiln-remote/$KILN_BRANCH^{commit}") || exit 1
`;

/**
 * A new project from a fetched branch (the project's directory is new and empty). Env: KILN_BRANCH, KILN_NONCE.
 * main becomes the branch's commit and its files are checked out, by git in the project's sandbox; prints
 * `files <count>` and `bytes <total>`.
 */
export const IMPORT_SCRIPT = `
set -u
if [ -e .git ] || [ -L .git ]; then echo "the project already has a .git" >&2; exit 1; fi
git -c init.templateDir= init -q -b main . >/dev/null || exit 1
${PRELUDE}
${TAKE_FETCHED}
g update-ref refs/heads/main "$theirs" || exit 1
g reset -q --hard main || exit 1
section "files $(g ls-files | wc -l)"
section "bytes $(g ls-tree -r -l main | awk '{ if ($4 != "-") s += $4 } END { print s + 0 }')"
`;

/** Env: KILN_BRANCH, KILN_LOCAL, KILN_NONCE. Takes a fetched branch in; prints `counts <ahead> <behind>`. */
export const TAKE_SCRIPT = `${PRELUDE}
${TAKE_FETCHED}
section "counts $(g rev-list --left-right --count "refs/heads/$KILN_LOCAL...$theirs" | tr '\\t' ' ')"
`;

/**
 * Env: KILN_COMMIT (the remote branch's commit as last seen), KILN_LOCAL, KILN_NONCE. Prints
 * `counts <ahead> <behind>`, or nothing when the project does not have that commit.
 */
export const COUNT_SCRIPT = `${PRELUDE}
theirs=$(g rev-parse -q --verify "$KILN_COMMIT^{commit}") || exit 0
g rev-parse -q --verify "refs/heads/$KILN_LOCAL^{commit}" >/dev/null || exit 0
section "counts $(g rev-list --left-right --count "refs/heads/$KILN_LOCAL...$theirs" | tr '\\t' ' ')"
`;

/**
 * $1: the local branch. Env: KILN_SAVE_MESSAGE, KILN_NONCE. Bundles the branch as refs/kiln/push into
 * .kiln/$2 (uncommitted files on the checked-out branch are saved as a checkpoint first); prints `tip <sha>`.
 */
export const BUNDLE_OUT_SCRIPT = `${PRELUDE}
if [ "$(g symbolic-ref -q HEAD)" = "refs/heads/$1" ] && dirty; then
  save "$KILN_SAVE_MESSAGE" "checkpoint before push" >/dev/null || exit 1
  section saved
fi
tip=$(g rev-parse -q --verify "refs/heads/$1^{commit}") || exit ${EXIT.notFound}
if [ -L .kiln ] || { [ -e .kiln ] && [ ! -d .kiln ]; }; then rm -f .kiln || exit 1; fi
mkdir -p .kiln && rm -rf ".kiln/$2" || exit 1
g update-ref refs/kiln/push "$tip" || exit 1
g bundle create -q ".kiln/$2" refs/kiln/push || exit 1
section "tip $tip"
`;

/**
 * Env: KILN_BRANCH, KILN_ON_CONFLICT (stop | markers), KILN_MESSAGE, KILN_SAVE_MESSAGE, KILN_NONCE. Takes the
 * fetched branch in and merges it into the checked-out branch, computed in the object store (merge-tree)
 * first. On a conflict with `stop`, exits EXIT.conflict having changed no file (`conflicts` lists them);
 * with `markers`, commits the merge with both sides between conflict markers. Sections: `saved`,
 * `outcome <up-to-date|fast-forward|merged|merged-with-conflicts>`, `conflicts`, `changes`, `commit <sha>`.
 */
export const PULL_SCRIPT = `${PRELUDE}
${TAKE_FETCHED}
if dirty; then
  save "$KILN_SAVE_MESSAGE" "checkpoint before pull" >/dev/null || exit 1
  section saved
fi
head=$(g rev-parse --verify 'HEAD^{commit}') || exit 1
if g merge-base --is-ancestor "$theirs" "$head"; then section "outcome up-to-date"; section "commit $head"; exit 0; fi
if g merge-base --is-ancestor "$head" "$theirs"; then
  commit=$theirs
  section "outcome fast-forward"
else
  # To a file: NUL-separated names do not survive a shell variable.
  g merge-tree --write-tree --allow-unrelated-histories --name-only --no-messages -z "$head" "$theirs" >/tmp/kiln-merge
  rc=$?
  [ $rc -le 1 ] || exit 1
  tree=$(tr '\\0' '\\n' </tmp/kiln-merge | head -n 1)
  if [ $rc -eq 1 ]; then
    section conflicts
    tail -c +$((\${#tree} + 2)) /tmp/kiln-merge
    [ "$KILN_ON_CONFLICT" = markers ] || exit ${EXIT.conflict}
    section "outcome merged-with-conflicts"
  else
    section "outcome merged"
  fi
  commit=$(g commit-tree "$tree" -p "$head" -p "$theirs" -m "$KILN_MESSAGE") || exit 1
fi
section changes
g diff-tree -r -z --no-renames --name-status "$head" "$commit" -- || exit 1
g update-index -q --refresh >/dev/null
g read-tree -m -u "$head" "$commit" || exit 1
g update-ref -m "kiln: pull" HEAD "$commit" "$head" || exit 1
section "commit $commit"
`;

import { CHECK_REPOSITORY_AND_BLANK_FILTERS, GIT_OVERRIDES } from "../history/git-shell.ts";

/**
 * `git http-backend` as one POSIX shell script, run in the project's sandbox with
 * `sh -c SCRIPT kiln-git <mode> -c key=value…`. The repository is the project's own (sandboxed code owns
 * `.git`), so everything the history hardens against applies here too (history/git-shell.ts), plus what
 * serving adds: receive-pack runs hooks and may run `core.alternateRefsCommand`, and http-backend obeys
 * `http.*` switches. Command-line config outranks the repository's; `uploadpack.packObjectsHook` is only
 * read from system and global config, which the environment turns off (history/service.ts gitEnvironment).
 */

/** `-c` settings for serving, after the history's own. */
export const SERVE_OVERRIDES: readonly string[] = [
  ...GIT_OVERRIDES,
  // Kiln decides who may fetch and push before git runs; the repository cannot switch services off or
  // serve raw files (the dumb protocol) instead.
  "http.uploadpack=true",
  "http.receivepack=true",
  "http.getanyfile=false",
  // A push to the checked-out branch updates the working tree, and is refused while it has changes.
  "receive.denyCurrentBranch=updateInstead",
  "receive.denyDeleteCurrent=refuse",
  "receive.autogc=false",
  "receive.updateServerInfo=false",
  "receive.shallowUpdate=false",
  // A program the repository's config may name, run when it has alternates; `true` lists nothing.
  "core.alternateRefsCommand=true",
];

/** What the script does: answer one request, or answer a push and then say which files it changed. */
export type ScriptMode = "serve" | "push";

/**
 * Env: the CGI variables (REQUEST_METHOD, PATH_INFO, QUERY_STRING, CONTENT_TYPE, HTTP_CONTENT_ENCODING,
 * GIT_PROTOCOL, REMOTE_USER), KILN_PROTECT_HEAD (1: the checked-out branch is hidden from receive-pack, so
 * a push to it is refused), KILN_PUSH_REF (when not empty, the one ref receive-pack shows and accepts) and,
 * for `push`, KILN_NONCE.
 *
 * stdout is http-backend's CGI answer and nothing else. After a push that moved the checked-out branch, a
 * `push` prints KILN_NONCE and then `git diff-tree --name-status -z` of the move on stderr (the nonce is
 * random per request, so nothing git or the client writes there can forge it).
 */
export const BACKEND_SCRIPT = `
set -u
mode=$1
shift
${CHECK_REPOSITORY_AND_BLANK_FILTERS}
unset GIT_DIR
# The repository found from PATH_INFO "/…" is $PWD/.git; GIT_WORK_TREE overrides a hostile core.worktree.
export GIT_PROJECT_ROOT="$PWD" GIT_WORK_TREE="$PWD" GIT_HTTP_EXPORT_ALL=1
set -- -c "safe.directory=$PWD" "$@"
# Later hideRefs entries win: everything hidden, then the one ref a job may push shown again.
if [ -n "$KILN_PUSH_REF" ]; then
  set -- "$@" -c receive.hideRefs=refs -c "receive.hideRefs=!$KILN_PUSH_REF"
fi
if [ "$KILN_PROTECT_HEAD" = 1 ] && head=$(git "$@" symbolic-ref -q HEAD); then
  set -- "$@" -c "receive.hideRefs=$head"
fi
[ "$mode" = push ] || exec git "$@" http-backend
before=$(git "$@" rev-parse -q --verify 'HEAD^{commit}') || before=
git "$@" http-backend
status=$?
after=$(git "$@" rev-parse -q --verify 'HEAD^{commit}') || after=
if [ -n "$after" ] && [ "$after" != "$before" ]; then
  base=\${before:-$(git "$@" hash-object -t tree /dev/null)}
  printf '%s' "$KILN_NONCE" >&2
  git "$@" diff-tree -r -z --no-renames --name-status "$base" "$after" -- >&2
fi
exit $status
`;

/** `sh -c` argv for one request. */
export function backendArgv(mode: ScriptMode): string[] {
  return ["sh", "-c", BACKEND_SCRIPT, "kiln-git", mode, ...SERVE_OVERRIDES.flatMap((o) => ["-c", o])];
}

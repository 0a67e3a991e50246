/** Quotes a word for a POSIX shell when it holds anything beyond the safe characters. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The command an operator runs, in a Kiln checkout on another machine, to add a worker for this server. */
export function workerCommand(serverOrigin: string, token: string): string {
  return `npm run kiln -- worker --server ${shellWord(serverOrigin)} --token ${shellWord(token)} --concurrency 1`;
}

// What a failed read of a file the user named says about it, in words rather than a system call's
// (`ENOENT: no such file or directory, open '…'`): the command's own message names the file.
/** `no such file`, `it is a directory`, `permission denied`, or the error's code. */
export function fsProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return 'no such file';
    case 'EISDIR':
      return 'it is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return `cannot read it (${code ?? (error instanceof Error ? error.message : String(error))})`;
  }
}

const LF = 0x0a;

/**
 * Which line of the file a line of the bytes handed on to PostgreSQL was: the two move apart where
 * a record is left out (the header, a blank line) or is written anew with another line count, so
 * PostgreSQL's "line N" in an error is turned back into the line the user sees.
 */
export function createLineMap() {
  // Where sent and file lines last moved apart, in order.
  const anchors: { sent: number; file: number }[] = [];
  return {
    /** From `sent` on, sent lines continue file lines from `file` on. */
    movedApart: (sent: number, file: number): void => {
      anchors.push({ sent, file });
    },
    fileLine: (sent: number): number => {
      let file = sent;
      for (const anchor of anchors) {
        if (anchor.sent >= sent) break;
        file = anchor.file + (sent - anchor.sent);
      }
      return file;
    },
  };
}

/** Line ends in `bytes`. */
export function countLines(bytes: Buffer): number {
  let count = 0;
  for (let at = bytes.indexOf(LF); at !== -1; at = bytes.indexOf(LF, at + 1)) count++;
  return count;
}

/** A digest's base64url text from its eight words (as `digestWords` writes them), the slow way: what the tests compare with. */
export function digestText(words: Int32Array): string {
  const bytes = Buffer.alloc(32);
  for (let i = 0; i < 8; i++) bytes.writeInt32BE(words[i]!, i * 4);
  return bytes.toString("base64url");
}

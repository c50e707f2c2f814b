// base64 (RFC 4648, section 4) to bytes, with atob, which every supported runtime has (browsers,
// Node >= 16, Deno, Bun): no Buffer, so browser bundles need no polyfill.

/** Decodes standard base64 text to bytes. */
export function base64Bytes(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

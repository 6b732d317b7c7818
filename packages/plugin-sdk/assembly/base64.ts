// Standard base64 with padding (RFC 4648 section 4), the encoding of every body in the contract.

export namespace base64 {
  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

  function sextet(c: i32): i32 {
    if (c >= 65 && c <= 90) return c - 65; // A-Z
    if (c >= 97 && c <= 122) return c - 71; // a-z
    if (c >= 48 && c <= 57) return c + 4; // 0-9
    if (c == 43 || c == 45) return 62; // + (and - from the URL alphabet)
    if (c == 47 || c == 95) return 63; // / (and _)
    return -1;
  }

  /** Encodes bytes as base64. */
  export function encode(bytes: Uint8Array): string {
    const n = bytes.length;
    const out = new Uint8Array(((n + 2) / 3) * 4);
    const table = changetype<usize>(ALPHABET); // UTF-16 code units
    let o = 0;
    let i = 0;
    for (; i + 2 < n; i += 3) {
      const v = (<u32>bytes[i] << 16) | (<u32>bytes[i + 1] << 8) | <u32>bytes[i + 2];
      out[o++] = <u8>load<u16>(table + (((v >> 18) & 63) << 1));
      out[o++] = <u8>load<u16>(table + (((v >> 12) & 63) << 1));
      out[o++] = <u8>load<u16>(table + (((v >> 6) & 63) << 1));
      out[o++] = <u8>load<u16>(table + ((v & 63) << 1));
    }
    const rest = n - i;
    if (rest > 0) {
      const v = (<u32>bytes[i] << 16) | (rest == 2 ? <u32>bytes[i + 1] << 8 : 0);
      out[o++] = <u8>load<u16>(table + (((v >> 18) & 63) << 1));
      out[o++] = <u8>load<u16>(table + (((v >> 12) & 63) << 1));
      out[o++] = rest == 2 ? <u8>load<u16>(table + (((v >> 6) & 63) << 1)) : 61;
      out[o++] = 61;
    }
    return String.UTF8.decodeUnsafe(out.dataStart, <usize>o);
  }

  /** Decodes base64 (padding optional, whitespace skipped); returns null when it is not base64. */
  export function decode(s: string): Uint8Array | null {
    const out = new Uint8Array((s.length * 3) >> 2);
    let acc: i32 = 0;
    let bits: i32 = 0;
    let o = 0;
    let padded = false;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c == 61) { padded = true; continue; } // '='
      if (c == 32 || c == 10 || c == 13 || c == 9) continue;
      const v = sextet(c);
      if (v < 0 || padded) return null;
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out[o++] = <u8>((acc >> bits) & 0xff);
      }
    }
    return out.subarray(0, o);
  }

  /** UTF-8 text to base64. */
  export function encodeText(text: string): string {
    return encode(Uint8Array.wrap(String.UTF8.encode(text)));
  }

  /** Base64 to UTF-8 text; null when it is not base64. */
  export function decodeText(b64: string): string | null {
    const bytes = decode(b64);
    if (bytes === null) return null;
    return String.UTF8.decodeUnsafe(bytes.dataStart, <usize>bytes.length);
  }
}

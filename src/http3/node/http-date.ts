/**
 * The `date` field of responses (RFC 9110 §6.6.1: an IMF-fixdate, one-second resolution), formatted
 * once per second rather than once per response.
 */
let second = -1;
let text = '';

/** The current time as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"). */
export function httpDate(now: number = Date.now()): string {
  const s = Math.floor(now / 1000);
  if (s !== second) {
    second = s;
    text = new Date(s * 1000).toUTCString();
  }
  return text;
}

/* json.h: the program's JSON (core, board and m0ctl alike): the one string escaper
 * (json.c), and the one reader of an object (json_read.c), for the control channel's
 * lines, m0ctl's reading of its answers and the web page's form.
 *
 * Two readings of the input, because the program writes two kinds of strings: text
 * (names, paths, causes, error messages), where UTF-8 passes through untouched, and
 * bytes (UART and network traffic), where every byte outside printable ASCII becomes
 * \u00XX so a reader gets the byte values back. Pure: no allocation, no OS.
 */
#ifndef M0_JSON_H
#define M0_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest escape of one byte: \u00XX. */
#define M0_JSON_ESCAPE_MAX 6

/* The escape of byte c inside a JSON string, written to out (not terminated), or 0 when
 * c stands for itself. bytes: escape 0x7f and above too (traffic); else only what JSON
 * requires plus DEL (text). */
size_t m0_json_escape_byte(unsigned char c, bool bytes, char out[M0_JSON_ESCAPE_MAX]);

/* s as a complete JSON string, with its quotes, into buf (always terminated when cap > 0).
 * Text reading. An input too long for buf is cut at a whole escape, never mid-escape.
 * Returns the length written (without the NUL). */
size_t m0_json_string(char *buf, size_t cap, const char *s);

/* ---- reading: one JSON object (a control channel line, a web form) ----
 *
 * A strict reader of one object (RFC 8259): its members with their type, their text as
 * written, and strings decoded (\u escapes become UTF-8, surrogate pairs joined). Nested
 * objects and arrays are checked (depth at most M0_JSON_DEPTH_MAX) and given as text.
 * No allocation: decoded keys and strings go to a scratch buffer the caller gives. */

enum m0_json_type {
  M0_JSON_NULL,
  M0_JSON_FALSE,
  M0_JSON_TRUE,
  M0_JSON_NUMBER,
  M0_JSON_STRING,
  M0_JSON_OBJECT,
  M0_JSON_ARRAY,
};

#define M0_JSON_DEPTH_MAX 32

struct m0_json_member {
  const char *key;     /* decoded, NUL-terminated (in scratch) */
  size_t key_len;
  enum m0_json_type type;
  const char *raw;     /* the value's text in the input (not terminated) */
  size_t raw_len;
  const char *str;     /* M0_JSON_STRING: decoded, NUL-terminated (in scratch); may hold
                        * NUL bytes of its own (\u0000): str_len counts them */
  size_t str_len;
};

/* Read the object that is all of s[0..len) (whitespace around it allowed). At most max
 * members; scratch needs at most len + 2 * max bytes. Returns the number of members, or
 * -1 with err holding "at byte N: <what>" (a duplicate key is an error too). */
int m0_json_object(const char *s, size_t len, struct m0_json_member *members, unsigned max,
                   char *scratch, size_t scratch_cap, char *err, size_t err_cap);

/* For a form ({"NAME":"value",...}: the web page's), members[0..n) read from s by
 * m0_json_object: 0 when every value is a string, else -1 with err holding "at byte N:
 * the value of "NAME" must be a string, not a number" for the first that is not (N: where
 * its value starts). */
int m0_json_all_strings(const char *s, const struct m0_json_member *members, unsigned n,
                        char *err, size_t err_cap);

/* The member named key, or NULL. */
const struct m0_json_member *m0_json_find(const struct m0_json_member *members, unsigned n,
                                          const char *key);

/* A number member as an integer count of 10^-digits units, rounded to the nearest (half
 * up): seconds with digits 9 give nanoseconds, a probability with digits 9 parts per
 * billion. Returns 0, or -1 when it is not a number, is negative, or exceeds UINT64_MAX. */
int m0_json_fixed(const struct m0_json_member *m, unsigned digits, uint64_t *out);
/* "host:port" as a JSON string (m0_json_string), "[host]:port" when host holds a ':' (an
 * IPv6 literal): how events name a peer or a bound address. Returns buf. */
const char *m0_json_hostport(char *buf, size_t cap, const char *host, unsigned port);

#endif

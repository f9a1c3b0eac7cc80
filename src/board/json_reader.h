/* json_reader.h: the body of POST /api/config, {"NAME":"value", ...} and nothing else.
 *
 * A flat JSON object of string values, read strictly and completely before anything is
 * applied (RFC 8259: whitespace, the escapes, surrogate pairs; no other value types, no
 * duplicate member, nothing after the object), so a syntax error never leaves half a form
 * saved. Pure: no allocation, no libuv; unit-tested (test_json_reader) and fuzzed
 * (fuzz_web).
 */
#ifndef M0_BOARD_JSON_READER_H
#define M0_BOARD_JSON_READER_H

#include <stdbool.h>
#include <stddef.h>

#include "m0/params.h"

#define M0__JSON_PAIRS_MAX 64 /* more than the table has: a form never needs more */
#define M0__JSON_KEY_MAX 32   /* longer keys cannot name a parameter */

struct m0__json_pair {
  char key[M0__JSON_KEY_MAX + 1];
  bool key_long;               /* the key was cut: it names no parameter */
  char value[M0_VALUE_MAX];
  bool value_bad;              /* too long, or held a NUL: refused as a bad value */
};

/* Read s[0..len). Returns true with *npairs members (no two with the same whole key), or
 * false with a message "at byte N: ..." in error. \u escapes become UTF-8. */
bool m0__json_read_object(const char *s, size_t len, struct m0__json_pair *pairs,
                          unsigned *npairs, char *error, size_t error_cap);

#endif

/* fuzz_json.c: any bytes as a control channel request line (src/core/json_read.c). The
 * reader never reads or writes outside the input and the scratch it is given (scratch
 * sized len + 2 * max, as the channel gives it); an accepted object's members lie inside
 * the input, their decoded keys and strings are terminated and no longer than their text,
 * a nested object's text is itself an object the reader accepts, and a number member
 * converts to fixed point or is refused, never anything else. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "m0/json.h"

#define MAX 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct m0_json_member m[MAX], inner[MAX];
  char err[160];
  const char *s = (const char *)data;
  char *scratch = malloc(size + 2 * MAX + 1), *scratch2;
  int n = m0_json_object(s, size, m, MAX, scratch, size + 2 * MAX + 1, err, sizeof err);
  if (n < 0) {
    if (strncmp(err, "at byte ", 8) != 0)
      abort(); /* every refusal says where */
    free(scratch);
    return 0;
  }
  for (int i = 0; i < n; i++) {
    const struct m0_json_member *x = &m[i];
    uint64_t v;
    if (x->raw < s || x->raw + x->raw_len > s + size || x->raw_len == 0)
      abort();
    if (x->key[x->key_len] != '\0')
      abort();
    if (x->type == M0_JSON_STRING && (x->str[x->str_len] != '\0' || x->str_len > x->raw_len))
      abort();
    if (x->type == M0_JSON_NUMBER)
      (void)m0_json_fixed(x, (unsigned)(x->raw_len % 12), &v);
    else if (m0_json_fixed(x, 3, &v) != -1)
      abort(); /* only numbers convert */
    if (x->type == M0_JSON_OBJECT) {
      scratch2 = malloc(x->raw_len + 2 * MAX + 1);
      if (m0_json_object(x->raw, x->raw_len, inner, MAX, scratch2, x->raw_len + 2 * MAX + 1,
                         err, sizeof err) < 0 &&
          strstr(err, "too many members") == NULL && strstr(err, "duplicate") == NULL)
        abort(); /* a nested object the reader walked is an object (maybe wider) */
      free(scratch2);
    }
  }
  free(scratch);
  return 0;
}

/* test_json.c: the one JSON string escaper (include/m0/json.h), from RFC 8259 §7: a
 * string is quoted; quotation mark, reverse solidus and the control characters U+0000
 * to U+001F must be escaped; anything else may stand for itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "m0/json.h"

static void test_plain_text_is_quoted_only(void **state) {
  (void)state;
  char buf[64];
  assert_int_equal(m0_json_string(buf, sizeof buf, "AT+VER ok"), 11);
  assert_string_equal(buf, "\"AT+VER ok\"");
  assert_int_equal(m0_json_string(buf, sizeof buf, ""), 2);
  assert_string_equal(buf, "\"\"");
}

static void test_required_escapes(void **state) {
  (void)state;
  char buf[64];
  m0_json_string(buf, sizeof buf, "a\"b\\c\n\r\t\x01\x1f\x7f");
  assert_string_equal(buf, "\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u001f\\u007f\"");
}

static void test_text_keeps_utf8(void **state) {
  (void)state;
  char buf[64];
  m0_json_string(buf, sizeof buf, "caf\xc3\xa9");
  assert_string_equal(buf, "\"caf\xc3\xa9\"");
}

static void test_bytes_reading_escapes_high_bytes(void **state) {
  (void)state;
  char out[M0_JSON_ESCAPE_MAX];
  assert_int_equal(m0_json_escape_byte(0xc3, true, out), 6);
  assert_memory_equal(out, "\\u00c3", 6);
  assert_int_equal(m0_json_escape_byte(0xff, true, out), 6);
  assert_memory_equal(out, "\\u00ff", 6);
  assert_int_equal(m0_json_escape_byte(0xc3, false, out), 0);
  assert_int_equal(m0_json_escape_byte('A', true, out), 0);
  assert_int_equal(m0_json_escape_byte(0x00, false, out), 6);
  assert_memory_equal(out, "\\u0000", 6);
  assert_int_equal(m0_json_escape_byte('"', true, out), 2);
  assert_memory_equal(out, "\\\"", 2);
}

/* Cut at a whole escape: the result is still one valid JSON string. */
static void test_truncation_never_splits_an_escape(void **state) {
  (void)state;
  char buf[9];
  size_t n = m0_json_string(buf, sizeof buf, "ab\x01zzzz");
  /* "ab then \u0001 does not fit before the quote and NUL: "ab" */
  assert_string_equal(buf, "\"ab\"");
  assert_int_equal(n, 4);
  n = m0_json_string(buf, sizeof buf, "abcdefghijkl");
  assert_int_equal(n, 8);
  assert_string_equal(buf, "\"abcdef\"");
}

static void test_tiny_buffers(void **state) {
  (void)state;
  char buf[3] = {'x', 'x', 'x'};
  assert_int_equal(m0_json_string(buf, 2, "a"), 0);
  assert_int_equal(buf[0], '\0');
  assert_int_equal(m0_json_string(buf, 3, "a"), 2);
  assert_string_equal(buf, "\"\"");
  assert_int_equal(m0_json_string(buf, 0, "a"), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plain_text_is_quoted_only),
      cmocka_unit_test(test_required_escapes),
      cmocka_unit_test(test_text_keeps_utf8),
      cmocka_unit_test(test_bytes_reading_escapes_high_bytes),
      cmocka_unit_test(test_truncation_never_splits_an_escape),
      cmocka_unit_test(test_tiny_buffers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

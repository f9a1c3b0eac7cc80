/* test_json_reader.c: the strict reader of the web form's body (src/board/json_reader.c).
 *
 * What it accepts (whitespace anywhere JSON allows it, every escape, surrogate pairs,
 * the empty object), what it refuses and where it says the refusal is, and the marks it
 * leaves for the caller: a key too long to name a parameter, a value too long or holding
 * a NUL, both read to their end so the members after them still count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "json_reader.h"

static struct m0__json_pair pairs[M0__JSON_PAIRS_MAX];
static char err[256];
static unsigned n;

static bool read_text(const char *s) {
  err[0] = '\0';
  return m0__json_read_object(s, strlen(s), pairs, &n, err, sizeof err);
}

static void test_accepts(void **state) {
  (void)state;
  assert_true(read_text(" {\"UART\" : \"9600,8,1,NONE,NFC\",\r\n\t\"MID\":\"USR-M0\"} "));
  assert_int_equal(n, 2);
  assert_string_equal(pairs[0].key, "UART");
  assert_string_equal(pairs[0].value, "9600,8,1,NONE,NFC");
  assert_string_equal(pairs[1].key, "MID");
  assert_string_equal(pairs[1].value, "USR-M0");
  assert_false(pairs[0].key_long || pairs[0].value_bad || pairs[1].key_long ||
               pairs[1].value_bad);
  assert_true(read_text("{}"));
  assert_int_equal(n, 0);
  assert_true(read_text(" { } "));
  assert_int_equal(n, 0);
  assert_true(read_text("{\"\":\"\"}")); /* empty key: read; it names no parameter */
  assert_int_equal(n, 1);
  assert_string_equal(pairs[0].key, "");
}

static void test_escapes(void **state) {
  (void)state;
  assert_true(read_text("{\"k\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}"));
  assert_string_equal(pairs[0].value, "\"\\/\b\f\n\r\t");
  /* \u to UTF-8: one, two, three and four bytes (a surrogate pair), any hex case. */
  assert_true(read_text("{\"MID\":\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"}"));
  assert_string_equal(pairs[0].value, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  /* Raw UTF-8 passes as it is. */
  assert_true(read_text("{\"k\":\"\xc3\xa9\"}"));
  assert_string_equal(pairs[0].value, "\xc3\xa9");
  /* A NUL cannot live in a C string: the value is marked bad, not cut silently. */
  assert_true(read_text("{\"MID\":\"a\\u0000b\",\"E\":\"on\"}"));
  assert_int_equal(n, 2);
  assert_true(pairs[0].value_bad);
  assert_false(pairs[1].value_bad);
}

static void test_long_keys_and_values(void **state) {
  char body[4096];
  char key[M0__JSON_KEY_MAX + 2];
  (void)state;
  /* A key of exactly 32 bytes fits; 33 is marked and never equals another. */
  memset(key, 'K', sizeof key);
  key[M0__JSON_KEY_MAX] = '\0';
  snprintf(body, sizeof body, "{\"%s\":\"v\"}", key);
  assert_true(read_text(body));
  assert_false(pairs[0].key_long);
  assert_string_equal(pairs[0].key, key);
  key[M0__JSON_KEY_MAX] = 'K';
  key[M0__JSON_KEY_MAX + 1] = '\0';
  snprintf(body, sizeof body, "{\"%s\":\"v\",\"%s\":\"w\",\"E\":\"on\"}", key, key);
  assert_true(read_text(body)); /* two cut keys are not duplicates of each other */
  assert_int_equal(n, 3);
  assert_true(pairs[0].key_long && pairs[1].key_long);
  assert_string_equal(pairs[2].key, "E");
  /* A value of M0_VALUE_MAX - 1 bytes fits; one more is marked bad. */
  char value[M0_VALUE_MAX + 1];
  memset(value, 'v', sizeof value);
  value[M0_VALUE_MAX - 1] = '\0';
  snprintf(body, sizeof body, "{\"HTPHEAD\":\"%s\"}", value);
  assert_true(read_text(body));
  assert_false(pairs[0].value_bad);
  assert_int_equal(strlen(pairs[0].value), M0_VALUE_MAX - 1);
  value[M0_VALUE_MAX - 1] = 'v';
  value[M0_VALUE_MAX] = '\0';
  snprintf(body, sizeof body, "{\"HTPHEAD\":\"%s\",\"E\":\"off\"}", value);
  assert_true(read_text(body));
  assert_true(pairs[0].value_bad);
  assert_string_equal(pairs[1].value, "off");
}

static void test_member_limit(void **state) {
  static char body[M0__JSON_PAIRS_MAX * 16 + 64];
  (void)state;
  size_t len = 0;
  body[len++] = '{';
  for (int i = 0; i < M0__JSON_PAIRS_MAX; i++)
    len += (size_t)snprintf(body + len, sizeof body - len, "%s\"k%d\":\"v\"", i ? "," : "", i);
  snprintf(body + len, sizeof body - len, "}");
  assert_true(read_text(body));
  assert_int_equal(n, M0__JSON_PAIRS_MAX);
  snprintf(body + len, sizeof body - len, ",\"one-more\":\"v\"}");
  assert_false(read_text(body));
  assert_non_null(strstr(err, "too many members (at most 64)"));
}

static void test_refusals_say_where(void **state) {
  (void)state;
  static const struct {
    const char *body, *error;
  } bad[] = {
      {"", "at byte 0: expected a JSON object"},
      {"  [", "at byte 2: expected a JSON object"},
      {"{\"a\":1}", "at byte 5: the value of \"a\" must be a string, not a number"},
      {"{\"a\":true}", "at byte 5: the value of \"a\" must be a string, not a boolean"},
      {"{\"a\":null}", "at byte 5: the value of \"a\" must be a string, not null"},
      {"{\"a\":{}}", "at byte 5: the value of \"a\" must be a string, not an object"},
      {"{\"a\":[]}", "at byte 5: the value of \"a\" must be a string, not an array"},
      {"{a:\"b\"}", "at byte 1: expected a member name in double quotes"},
      {"{\"a\" \"b\"}", "at byte 5: expected ':' after a member name"},
      {"{\"a\":\"b\" \"c\"}", "at byte 9: expected ',' or '}'"},
      {"{\"a\":\"b\",}", "at byte 9: expected a member name in double quotes"},
      {"{\"a\":\"b\",\"a\":\"c\"}", "at byte 12: duplicate member \"a\""},
      {"{\"a\":\"b\"} x", "at byte 10: unexpected data after the object"},
      {"{\"a\":\"b\"}{}", "at byte 9: unexpected data after the object"},
      {"{\"a\":\"b", "at byte 7: unterminated string"},
      {"{\"a\":\"b\\", "at byte 7: unterminated string"},
      {"{\"a\":\"\x01\"}", "at byte 6: control character in a string"},
      {"{\"a\":\"\\x\"}", "at byte 6: bad escape in a string"},
      {"{\"a\":\"\\u12\"}", "at byte 6: bad \\u escape"},
      {"{\"a\":\"\\u12", "at byte 6: truncated \\u escape"},
      {"{\"a\":\"\\ud800\"}", "at byte 12: unpaired surrogate"},
      {"{\"a\":\"\\udc00\"}", "at byte 12: unpaired surrogate"},
      {"{\"a\":\"\\ud800\\u0041\"}", "at byte 12: unpaired surrogate"},
      {"{", "at byte 1: expected a string"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (read_text(bad[i].body))
      fail_msg("accepted: %s", bad[i].body);
    if (strncmp(err, bad[i].error, strlen(bad[i].error)) != 0)
      fail_msg("%s: %s (want %s)", bad[i].body, err, bad[i].error);
  }
  /* Bytes, not a C string: a NUL in the body is refused where it is. */
  assert_false(m0__json_read_object("{\"a\":\"b\"}\0", 10, pairs, &n, err, sizeof err));
  assert_string_equal(err, "at byte 9: unexpected data after the object");
  /* The message is cut to the room given, never overrun. */
  char small[12];
  assert_false(m0__json_read_object("x", 1, pairs, &n, small, sizeof small));
  assert_int_equal(strlen(small), sizeof small - 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_accepts),
      cmocka_unit_test(test_escapes),
      cmocka_unit_test(test_long_keys_and_values),
      cmocka_unit_test(test_member_limit),
      cmocka_unit_test(test_refusals_say_where),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

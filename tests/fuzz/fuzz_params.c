/* fuzz_params.c: any bytes as the value of any command. A refused value must leave the
 * configuration untouched; an accepted one must read back as a value that is accepted
 * again and means the same (canonical spelling is a fixed point). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "m0/params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct m0_config cfg, before, again;
  const struct m0_param *p;
  char value[M0_VALUE_MAX];
  int n;
  if (size < 1)
    return 0;
  p = &m0_params[data[0] % M0_ID_COUNT];
  m0_config_defaults(&cfg);
  before = cfg;
  if (m0_param_set(p, &cfg, (const char *)data + 1, size - 1) != 0) {
    if (memcmp(&cfg, &before, sizeof cfg) != 0)
      abort();
    return 0;
  }
  n = m0_param_format(p, &cfg, M0_DIALECT_DOC, value, sizeof value);
  if (n < 0 || (size_t)n >= sizeof value)
    abort();
  again = before;
  if (m0_param_set(p, &again, value, (size_t)n) != 0 || memcmp(&cfg, &again, sizeof cfg) != 0)
    abort();
  return 0;
}

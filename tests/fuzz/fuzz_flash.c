/* fuzz_flash.c: any bytes as a flash file. The loader must never crash, and whatever it
 * accepts must survive a format/parse round trip unchanged (the file is canonical).
 * The same bytes as a profile (--profile): refused, it leaves the configuration exactly
 * as it was and says why; accepted, its result is a valid flash file of its own. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "m0/flash_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct m0_config cfg, again;
  static char text[M0_FLASH_MAX];
  size_t len;
  (void)m0_flash_parse((const char *)data, size, &cfg, NULL, NULL);
  len = m0_flash_format(&cfg, text, sizeof text);
  if (len == 0)
    abort();
  if (m0_flash_parse(text, len, &again, NULL, NULL) != M0_FLASH_OK)
    abort();
  if (memcmp(&cfg, &again, sizeof cfg) != 0)
    abort();

  struct m0_config before = cfg;
  char reason[M0_PROFILE_REASON_MAX] = "";
  unsigned line = m0_profile_parse((const char *)data, size, &cfg, reason, sizeof reason);
  if (line != 0) {
    if (memcmp(&cfg, &before, sizeof cfg) != 0 || reason[0] == '\0')
      abort();
  } else {
    len = m0_flash_format(&cfg, text, sizeof text);
    if (len == 0 || m0_flash_parse(text, len, &again, NULL, NULL) != M0_FLASH_OK ||
        memcmp(&cfg, &again, sizeof cfg) != 0)
      abort();
  }
  return 0;
}

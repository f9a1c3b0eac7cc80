/* fuzz_flash.c: any bytes as a flash file. The loader must never crash, and whatever it
 * accepts must survive a format/parse round trip unchanged (the file is canonical). */
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
  return 0;
}

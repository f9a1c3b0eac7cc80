/* err.c: the one mapping from the core's errors (enum m0_err) to the AT wire codes.
 *
 * Every error about a value or a name maps to the AT code the same mistake typed on the
 * serial port gets; every "not now" (a state, a busy or failing flash) is -5, which is
 * what the module answers when a save could not be done (spec §3.3).
 */
#include "m0/err.h"

int m0_err_at(int err) {
  switch (err) {
  case M0_E_SYNTAX:
    return M0_AT_ERR_FORMAT;
  case M0_E_NOTFOUND:
    return M0_AT_ERR_COMMAND;
  case M0_E_NOTCONFIG:
    return M0_AT_ERR_OPERATOR;
  case M0_E_INVAL:
    return M0_AT_ERR_PARAM;
  default: /* M0_E_STATE, M0_E_BUSY, M0_E_FLASH */
    return M0_AT_ERR_STATE;
  }
}

/* fault.h: faults on demand, the inputs a test harness gives a device (docs/faults.md).
 *
 * A real module fails in ways a host program must survive: its power is cut, its cable
 * pulled, its firmware hangs until the watchdog restarts it, its serial line is noisy,
 * its network slow or lossy, its flash full. Each is an input of the core like any other
 * (a function with the current time), so what the device does about it is the core's
 * policy, tested on the virtual clock; the board only carries the request (the control
 * channel, docs/control.md) and the few OS actions a fault needs (link_abort). Every
 * fault may last a given time (for_ns, 0 = until told otherwise), is reported by an
 * event when it starts and ends, and shows in m0_dev_fault_status(). Random faults
 * (noise, loss) draw from the device's own generator, seeded (m0_dev_fault_seed), so a
 * test that sets a seed sees the same bytes hit every run.
 */
#ifndef M0_FAULT_H
#define M0_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct m0_dev;

/* Probabilities are in parts per billion: 1e-6 is 1000, certainty is M0_PPB. */
#define M0_PPB 1000000000u

/* ---- power ---- */

/* Cut the power (on = false) or give it back (on = true). Off: the links vanish as on a
 * power cut (TCP connections fall silent, their peers see neither FIN nor reset until
 * power comes back and the new boot's stack resets them; listening and UDP sockets
 * close), bytes in flight in the device are lost, the UART is silent and host bytes are
 * dropped, flash keeps what was saved. On: a boot, as at start. for_ns (power off only):
 * power comes back by itself after that long (a power cycle); 0 = until told.
 * Returns 0, or M0_E_STATE when the power already is as asked (nothing happens). */
int m0_dev_power(struct m0_dev *dev, uint64_t now, bool on, uint64_t for_ns);
bool m0_dev_powered(const struct m0_dev *dev);

/* ---- the Ethernet cable ---- */

/* A cable pulled long enough that a TCP stack gives up on its connections: at re-plug
 * after at least this long they are reset (ASSUMPTION, docs/faults.md). */
#define M0_CABLE_RESET_AFTER_NS (60ull * 1000000000ull)
/* A dial into a pulled cable fails this long after it starts (the board's own connect
 * timeout, so a timeout looks the same cable or not). */
#define M0_CABLE_DIAL_TIMEOUT_NS (10ull * 1000000000ull)
/* Serial data the device keeps for the network while it cannot go (a pulled cable, a
 * slow or delayed network): its TCP send buffer and UART buffer together. Beyond, bytes
 * are lost and counted, as on a module without flow control. */
#define M0_FAULT_HELD_MAX 16384

/* Pull the cable (plugged = false) or plug it back. Unplugged: the link pin drops,
 * nothing is sent or received on any link and no connection is closed by the device
 * (peers see silence; TCP reading stops, serial data for TCP is kept, up to
 * M0_FAULT_HELD_MAX, datagrams both ways are lost), dials time out after
 * M0_CABLE_DIAL_TIMEOUT_NS. Plugged: kept data goes and traffic resumes or, when the
 * cable was out for at least reset_after_ns (0: M0_CABLE_RESET_AFTER_NS), every TCP
 * connection is reset as a stack that ran out of retries does. for_ns (unplug only):
 * plugged back by itself after that long (0: until told). The power does not matter (a
 * module switched off may have its cable pulled). Returns 0, or M0_E_STATE when the
 * cable already is as asked. */
int m0_dev_fault_cable(struct m0_dev *dev, uint64_t now, bool plugged, uint64_t for_ns,
                       uint64_t reset_after_ns);

/* ---- a firmware hang ---- */

/* The firmware stops for for_ns (> 0): no byte is taken from or sent to the UART or the
 * network (TCP reading stops, datagrams are lost, host bytes are dropped), no timer
 * runs; then its watchdog restarts it: the TCP connections are reset (the new boot's
 * stack does not know them) and the device restarts (cause "watchdog"). A restart from
 * outside (SIGHUP, the control channel) ends the hang at once. Returns 0, M0_E_INVAL
 * for 0, or M0_E_STATE when the power is off or it already hangs. */
int m0_dev_fault_hang(struct m0_dev *dev, uint64_t now, uint64_t for_ns);

/* ---- the serial line: noise and loss ---- */

enum m0_uart_dir { M0_UART_TO_HOST, M0_UART_FROM_HOST };

struct m0_uart_noise {
  uint32_t bit_error_ppb; /* each data bit flips with this probability */
  uint32_t loss_ppb;      /* each byte is lost (a framing error: never seen) */
};

/* Noise on the line in one direction, for for_ns (0: until cleared); all zero clears it.
 * Bytes still take their time on the line (pacing counts them) whatever happens to
 * them. Returns 0, or M0_E_INVAL for a probability above M0_PPB. */
int m0_dev_fault_uart(struct m0_dev *dev, uint64_t now, enum m0_uart_dir dir,
                      const struct m0_uart_noise *noise, uint64_t for_ns);

/* ---- the network: impairment per direction ---- */

enum m0_net_dir { M0_NET_TO_NET, M0_NET_FROM_NET };

/* Most bytes per second an impaired direction carries (the pace's exact range). */
#define M0_NET_RATE_MAX 16000000u

struct m0_net_impair {
  uint64_t delay_ns;  /* every send (to_net) or every arrival (from_net) is this late */
  uint64_t jitter_ns; /* ... plus or minus up to this (uniform); order is kept */
  uint32_t loss_ppb;  /* each datagram is lost (UDP only: TCP does not lose bytes) */
  uint32_t rate;      /* bytes per second, 0: unlimited */
};

/* Impair one direction for for_ns (0: until cleared); all zero clears it. to_net: what
 * the device sends waits in the same held queue as during a cable pull (16 KiB, more is
 * lost and counted), then goes at the rate. from_net: what arrives reaches the host that
 * late and at that rate (TCP is slowed by its window as the queue toward the host fills:
 * nothing is lost). Returns 0, or M0_E_INVAL (a probability above M0_PPB, a rate above
 * M0_NET_RATE_MAX). */
int m0_dev_fault_net(struct m0_dev *dev, uint64_t now, enum m0_net_dir dir,
                     const struct m0_net_impair *impair, uint64_t for_ns);

/* Reset every TCP connection now (RST to each peer), as a stack that gave up on them;
 * the work modes react as to a reset from the peer (TCPC dials again). Returns how many
 * were reset, or M0_E_STATE when the power is off. */
int m0_dev_fault_net_reset(struct m0_dev *dev, uint64_t now);

/* ---- flash ---- */

/* The next fail_next saves fail (EIO), or every save fails while full (ENOSPC): the
 * command is answered +ERR=-5 (the web page gets an error) and nothing changes, flash
 * included. for_ns: the fault ends by itself (0: when the failures are used up, or until
 * cleared); fail_next 0 and full false clears it. */
int m0_dev_fault_flash(struct m0_dev *dev, uint64_t now, uint32_t fail_next, bool full,
                       uint64_t for_ns);

/* ---- the random generator of noise and loss ---- */

/* Reseed the device's generator (the default seed is 1): the same seed and the same
 * inputs hit the same bytes. */
void m0_dev_fault_seed(struct m0_dev *dev, uint64_t seed);

/* ---- what is active, for status pages ---- */

struct m0_fault_status {
  bool off;
  uint64_t off_since, on_at; /* on_at: M0_TIME_NEVER = until told */
  bool unplugged;
  uint64_t unplugged_since, plug_at, reset_after; /* plug_at: M0_TIME_NEVER = until told */
  bool hung;
  uint64_t hung_since, hang_until;
  size_t held_bytes; /* serial data kept for the network (cable out, impairment) */
  struct {
    struct m0_uart_noise noise;
    uint64_t until;
    uint64_t corrupted, lost; /* bytes hit since the fault was set */
  } uart[2]; /* by enum m0_uart_dir */
  struct {
    struct m0_net_impair impair;
    uint64_t until;
    uint64_t lost; /* datagrams lost since the fault was set */
  } net[2]; /* by enum m0_net_dir */
  struct {
    uint32_t fail_next;
    bool full;
    uint64_t until;
    uint64_t failed; /* saves refused since the fault was set */
  } flash;
};
void m0_dev_fault_status(const struct m0_dev *dev, struct m0_fault_status *out);

#endif

"""m0emu: drive the USR-M0 emulator from Python tests (docs/python.md).

Emulator starts one m0emu process on a private folder and free port, waits for its
`ready`, and gives the tty path, AT commands with the handshake done for you, the event
stream (wait_event), the UART's bytes (write/expect) and the control channel (control()
and its helpers: power, cable, hang, noise, network and flash faults). The pytest plugin
(m0emu.plugin) wraps it in the fixtures `m0emu` and `m0emu_factory`. Fleet runs
`m0emu --fleet` (many modules in one process), each module with the same API as an
Emulator (fixtures `m0emu_fleet` and `m0emu_fleet_factory`). Standard library plus
pyserial only.
"""

from .at import mode_of, parse_reply
from .control import ChannelUart, Control, ControlError, Result
from .device import Device
from .emulator import Emulator, find_binary, free_port
from .fleet import Fleet, FleetModule
from .errors import ATError, M0EmuError

__version__ = "0.1.0"
__all__ = ["Emulator", "Device", "Fleet", "FleetModule", "ATError", "ChannelUart", "Control", "ControlError", "M0EmuError", "Result",
           "find_binary", "free_port", "mode_of", "parse_reply", "__version__"]

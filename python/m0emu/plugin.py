"""plugin.py: the pytest plugin, fixtures `m0emu` and `m0emu_factory` (one module per
process), `m0emu_fleet` and `m0emu_fleet_factory` (`--fleet`, many in one).

Loaded by the `pytest11` entry point when the package is installed, or by hand with
`-p m0emu.plugin` or `pytest_plugins = ["m0emu.plugin"]` (the entry point carries that
same name, so both ways together load it once). Each fixture's emulators are closed in
the fixture's finalizer, which pytest runs whether the test passed, failed or raised;
a run that ended badly (a crash, a sanitizer's exit status) fails the test's teardown.
When a test fails, the report gets a section per emulator or fleet with its last events
and stderr lines.
"""

import pytest

from .emulator import Emulator
from .fleet import Fleet

_KEY = "m0emu_emulators"


def pytest_addoption(parser):
    group = parser.getgroup("m0emu", "the USR-M0 emulator")
    group.addoption("--m0emu-binary", default=None, metavar="PATH",
                    help="the m0emu binary (default: $M0EMU, m0emu on PATH, or the "
                         "source tree's build/src/board/m0emu)")
    parser.addini("m0emu_binary", "the m0emu binary (as --m0emu-binary)", default=None)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "m0emu(**options): options of the m0emu fixture's Emulator "
                   "(timing, dialect, mac, flash, args, ...)")
    config.addinivalue_line(
        "markers", "m0emu_fleet(**options): options of the m0emu_fleet fixture's Fleet "
                   "(count, no_tty, settings, peers, flash, ...)")


def _binary(config):
    return config.getoption("m0emu_binary") or config.getini("m0emu_binary") or None


def _started(request):
    """The test's list of started processes, shared by every factory (the report)."""
    started = getattr(request.node, _KEY, None)
    if started is None:
        started = []
        setattr(request.node, _KEY, started)
    return started


def _close(started):
    errors = []
    for emu in reversed(started):
        try:
            emu.close()
        except Exception as e:  # noqa: BLE001 - close every one, then report
            errors.append(e)
    if errors:
        raise errors[0]


@pytest.fixture
def m0emu_factory(request):
    """Start emulators: `m0emu_factory(**options)` returns a started Emulator; call it
    as often as the test needs. All are closed when the test ends."""
    started = _started(request)
    mine = []
    binary = _binary(request.config)

    def make(**options):
        options.setdefault("binary", binary)
        emu = Emulator(**options)
        started.append(emu)
        mine.append(emu)
        emu.start()
        return emu

    yield make
    _close(mine)


@pytest.fixture
def m0emu_fleet_factory(request):
    """Start fleets: `m0emu_fleet_factory(count, **options)` returns a started Fleet
    whose every module is ready. All are closed when the test ends."""
    started = _started(request)
    mine = []
    binary = _binary(request.config)

    def make(count, **options):
        options.setdefault("binary", binary)
        fleet = Fleet(count, **options)
        started.append(fleet)
        mine.append(fleet)
        fleet.start()
        return fleet

    yield make
    _close(mine)


@pytest.fixture
def m0emu_fleet(m0emu_fleet_factory, request):
    """A started fleet, every module ready: `.modules`, `fleet["m0002"]`. Options come
    from a `@pytest.mark.m0emu_fleet(count=20, ...)` marker; 3 modules without one."""
    marker = request.node.get_closest_marker("m0emu_fleet")
    options = dict(marker.kwargs) if marker else {}
    return m0emu_fleet_factory(options.pop("count", 3), **options)


@pytest.fixture
def m0emu(m0emu_factory, request):
    """One started emulator: `.tty`, `.at(...)`, `.wait_event(...)`, ... Options come
    from a `@pytest.mark.m0emu(...)` marker."""
    marker = request.node.get_closest_marker("m0emu")
    return m0emu_factory(**(marker.kwargs if marker else {}))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for n, emu in enumerate(getattr(item, _KEY, []) or []):
        try:
            text = emu.report()
        except Exception as e:  # noqa: BLE001 - a report must not hide the failure
            text = f"(no report: {e})"
        what = "fleet" if isinstance(emu, Fleet) else "m0emu"
        report.sections.append((f"{what} #{n} ({report.when})", text))

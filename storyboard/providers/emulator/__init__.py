"""A faithful kie.ai emulator: the same paths, envelopes and codes, with credits, task
states, uploads, downloads, signed callbacks and seeded fault injection. Clips are
rendered with the animatic renderer. Runs in-process (:func:`inprocess_client`) or as a
real server (:class:`ServedEmulator`, ``storyboard emulator serve``). See docs/kie.md."""

from storyboard.providers.emulator.app import create_app, emulator_of
from storyboard.providers.emulator.config import (
    DEFAULT_API_KEY,
    INPROCESS_BASE_URL,
    PROFILES,
    EmulatorConfig,
    FaultConfig,
    FetchAsset,
    Renderer,
)
from storyboard.providers.emulator.engine import Emulator
from storyboard.providers.emulator.faults import FAULT_KINDS, FaultInjector
from storyboard.providers.emulator.inprocess import (
    emulator_settings,
    inprocess,
    inprocess_client,
)
from storyboard.providers.emulator.server import ServedEmulator, serve
from storyboard.providers.emulator.transport import ConnectionDropped, InProcessTransport

__all__ = [
    "DEFAULT_API_KEY",
    "FAULT_KINDS",
    "INPROCESS_BASE_URL",
    "PROFILES",
    "ConnectionDropped",
    "Emulator",
    "EmulatorConfig",
    "FaultConfig",
    "FaultInjector",
    "FetchAsset",
    "InProcessTransport",
    "Renderer",
    "ServedEmulator",
    "create_app",
    "emulator_of",
    "emulator_settings",
    "inprocess",
    "inprocess_client",
    "serve",
]

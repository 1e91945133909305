"""A PBX simulator that speaks AMI like the Asterisk 22 in /work/shared/ami-traces."""

from callrouter.pbxsim.model import PBXModel, Snapshot
from callrouter.pbxsim.server import PBXSimulator, SimulatorNotRunning
from callrouter.pbxsim.settings import CallerProfile, SimulatorSettings

__all__ = [
    "CallerProfile",
    "PBXModel",
    "PBXSimulator",
    "SimulatorNotRunning",
    "SimulatorSettings",
    "Snapshot",
]

"""The live call state: what the PBX is doing right now (calls, queues, members)."""
